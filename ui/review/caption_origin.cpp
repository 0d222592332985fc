#include "caption_origin.h"

#include <QObject>

namespace esper::ui {

QJsonObject captionOrigin(const QString& bundle, const StyleCaption& caption,
                          const DecodingSettings& d) {
    QJsonObject decoding{{"strategy", d.sample ? "sample" : "greedy"},
                         {"max_tokens", d.maxTokens},
                         {"no_repeat_ngram", d.noRepeat},
                         {"cut_at_period", d.cutAtPeriod}};
    // Sampling knobs only where they changed the result.
    if (d.sample) {
        decoding["temperature"] = d.temperature;
        decoding["top_k"] = d.topK;
        decoding["top_p"] = d.topP;
        decoding["best_of"] = d.bestOf;
        // A 64-bit seed does not fit a JSON number exactly.
        decoding["seed"] = QString::number(d.seed);
    }
    return {{"bundle", bundle},
            {"style", caption.styleId},
            {"prompt", caption.prompt},
            {"decoding", decoding}};
}

QString describeOrigin(const QJsonObject& origin) {
    if (origin.isEmpty()) return {};
    QString text = origin["bundle"].toString() + " · " + origin["style"].toString();
    if (!origin["prompt"].toString().isEmpty())
        text += QObject::tr(" (prompt \"%1\")").arg(origin["prompt"].toString());
    const QJsonObject d = origin["decoding"].toObject();
    if (d.isEmpty()) return text;
    if (d["strategy"].toString() == "sample")
        text += QObject::tr(", sampled at temperature %1, top-k %2, top-p %3, seed %4")
                    .arg(d["temperature"].toDouble())
                    .arg(d["top_k"].toInt())
                    .arg(d["top_p"].toDouble())
                    .arg(d["seed"].toString());
    else
        text += QObject::tr(", greedy");
    return text + QObject::tr(", ≤ %1 tokens").arg(d["max_tokens"].toInt());
}

} // namespace esper::ui
