// Throughput of the caption metrics on a synthetic set (5,000 images x 5 references by default).
#pragma once

namespace esper {

struct MetricsBenchResult {
    int images = 0, references = 0;
    double bleuMs = 0, rougeMs = 0, ciderMs = 0;
    double totalMs() const { return bleuMs + rougeMs + ciderMs; }
};

MetricsBenchResult benchTextMetrics(int images = 5000, int references = 5, int repeats = 3);

} // namespace esper
