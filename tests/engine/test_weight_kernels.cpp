// The compressed-weight kernels against a plain double-precision product on shapes of every
// awkward kind (one row, row blocks with tails, k not a multiple of the vector width or the
// chunk, channels not a multiple of the block or the panel), on every instruction set this CPU
// has, on one thread and on several (which must agree to the bit); the panels' layout; and the
// fp16 conversion on every half value.
#include "test_support.h"

#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/weight_kernels.h"

#include <cmath>
#include <limits>
#include <random>

using namespace esper;
using namespace esper::kernels;

class TestWeightKernels : public QObject {
    Q_OBJECT

    static std::vector<float> randoms(size_t count, std::mt19937& rng, float spread = 1) {
        std::normal_distribution<float> d(0, spread);
        std::vector<float> v(count);
        for (auto& x : v)
            x = d(rng);
        return v;
    }

    // Where a product's element lies, for failure messages.
    static QString where(Isa isa, int64_t m, int64_t k, int64_t n, int64_t i, int64_t j) {
        return QString("%1 m=%2 k=%3 n=%4 (%5,%6)")
            .arg(isaName(isa))
            .arg(m)
            .arg(k)
            .arg(n)
            .arg(i)
            .arg(j);
    }

    // Σ_p x[i, p] · W[j, p] in double, and Σ |x[i, p] · W[j, p]| (what rounding scales with).
    static std::pair<double, double> plainProduct(const std::vector<float>& x,
                                                  const std::vector<float>& w, int64_t k, int64_t i,
                                                  int64_t j) {
        double sum = 0, size = 0;
        for (int64_t p = 0; p < k; ++p) {
            const double t = double(x[size_t(i * k + p)]) * w[size_t(j * k + p)];
            sum += t;
            size += std::abs(t);
        }
        return {sum, size};
    }

private slots:
    void int8AndHalfMatchAPlainProduct() {
        std::mt19937 rng(7);
        const auto isas = availableIsas();
        QVERIFY(!isas.empty() && isas.front() == Isa::Generic);
        for (int64_t m : {1, 2, 3, 4, 5, 7, 9, 17})
            for (int64_t k : {1, 7, 8, 15, 16, 17, 33, 64, 100, 130})
                for (int64_t n : {1, 3, 8, 9, 17, 31}) {
                    const auto x = randoms(size_t(m * k), rng), w = randoms(size_t(n * k), rng),
                               b = randoms(size_t(n), rng);
                    const Int8Weights q = packInt8(w.data(), n, k);
                    const HalfWeights h = packHalf(w.data(), n, k);
                    for (Isa isa : isas) {
                        std::vector<float> yq(size_t(m * n)), yh(size_t(m * n));
                        gemmInt8(x.data(), m, q, b.data(), yq.data(), n, isa);
                        gemmHalf(x.data(), m, h, nullptr, yh.data(), n, isa);
                        for (int64_t i = 0; i < m; ++i)
                            for (int64_t j = 0; j < n; ++j) {
                                double wantQ = b[size_t(j)], wantH = 0, size = 0;
                                for (int64_t p = 0; p < k; ++p) {
                                    const double xv = x[size_t(i * k + p)];
                                    wantQ += xv * q.at(j, p);
                                    wantH += xv * h.at(j, p);
                                    size += std::abs(xv * w[size_t(j * k + p)]);
                                }
                                const double tol = 1e-5 * (size + 1);
                                const QString at = where(isa, m, k, n, i, j);
                                QVERIFY2(std::abs(yq[size_t(i * n + j)] - wantQ) <= tol,
                                         qPrintable("int8 " + at));
                                QVERIFY2(std::abs(yh[size_t(i * n + j)] - wantH) <= tol,
                                         qPrintable("fp16 " + at));
                            }
                    }
                }
    }

    // The fp32 products over many rows, on every path: row counts around each path's block
    // (4, 6, 14 rows) and the row bands, channels around a pass and a panel, y wider than n
    // (what lies past n is left alone).
    void wideMatchesAPlainProduct() {
        std::mt19937 rng(13);
        for (int64_t m : {1, 3, 6, 13, 14, 15, 29, 50})
            for (int64_t k : {1, 7, 16, 33, 100})
                for (int64_t n : {1, 15, 16, 17, 32, 33, 70}) {
                    const auto x = randoms(size_t(m * k), rng), w = randoms(size_t(n * k), rng),
                               b = randoms(size_t(n), rng);
                    const WideWeights packed = packWide(w.data(), n, k);
                    const int64_t ldy = n + 3;
                    for (Isa isa : availableIsas())
                        for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
                            std::vector<float> y(size_t(m * ldy), -7.0f);
                            gemmWide(x.data(), m, packed, bias, y.data(), ldy, isa);
                            for (int64_t i = 0; i < m; ++i)
                                for (int64_t j = 0; j < ldy; ++j) {
                                    const QString at = where(isa, m, k, n, i, j);
                                    const float got = y[size_t(i * ldy + j)];
                                    if (j >= n) {
                                        QVERIFY2(got == -7.0f, qPrintable("past n " + at));
                                        continue;
                                    }
                                    const auto [sum, size] = plainProduct(x, w, k, i, j);
                                    const double want = sum + (bias ? bias[j] : 0);
                                    QVERIFY2(std::abs(got - want) <= 1e-5 * (size + 1),
                                             qPrintable(at));
                                }
                        }
                }
        // Rows in more than one band (k large enough that a band is a few blocks).
        const int64_t m = 300, k = 4096, n = 40;
        const auto x = randoms(size_t(m * k), rng), w = randoms(size_t(n * k), rng);
        const WideWeights packed = packWide(w.data(), n, k);
        std::vector<float> y(size_t(m * n));
        gemmWide(x.data(), m, packed, nullptr, y.data(), n);
        for (int64_t i = 0; i < m; i += 37)
            for (int64_t j = 0; j < n; j += 3) {
                const auto [want, size] = plainProduct(x, w, k, i, j);
                QVERIFY(std::abs(y[size_t(i * n + j)] - want) <= 1e-5 * (size + 1));
            }
    }

    // QuickGELU on every path against the function in double precision: within a few ulp of
    // its value (or 1e-35, where it underflows) from far below to far above zero, the tail
    // past the last whole vector included; infinities and NaN go as
    // LibTorch's x · σ(1.702 x) takes them.
    void quickGeluMatchesTheFunction() {
        std::vector<float> xs;
        for (float v = -120.0f; v <= 120.0f; v += 0.0137f)
            xs.push_back(v);
        for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 3.4e38f, -3.4e38f})
            xs.push_back(v);
        for (Isa isa : availableIsas())
            for (size_t n : {xs.size(), size_t(1), size_t(5), size_t(19)}) {
                std::vector<float> y(xs.begin(), xs.begin() + ptrdiff_t(n));
                quickGelu(y.data(), int64_t(n), isa);
                for (size_t i = 0; i < n; ++i) {
                    // 1.702 x rounded to fp32 as LibTorch's `1.702 * x` rounds it: its rounding
                    // alone moves e^(-1.702 x) by up to 1.702 |x| · 6e-8.
                    const double x = xs[i], z = double(1.702f * xs[i]),
                                 want = x / (1 + std::exp(-z));
                    QVERIFY2(std::abs(y[i] - want) <= 4e-7 * std::abs(want) + 1e-35,
                             qPrintable(QString("%1 x=%2: %3 against %4")
                                            .arg(isaName(isa))
                                            .arg(x)
                                            .arg(y[i])
                                            .arg(want)));
                }
            }
        for (Isa isa : availableIsas()) {
            float special[] = {INFINITY, -INFINITY, NAN};
            quickGelu(special, 3, isa);
            QCOMPARE(special[0], INFINITY);
            QVERIFY(std::isnan(special[1])); // -inf · 0, as in LibTorch
            QVERIFY(std::isnan(special[2]));
        }
    }

    // Attention on every path against softmax and sums in double: keys and dims around the
    // vector widths and the 4-vector blocks, grouped kv heads, rows held in a larger room
    // (strided as the KV cache's are), an additive mask, and queries that see no key.
    void attentionMatchesAPlainSoftmax() {
        std::mt19937 rng(19);
        struct Case {
            int64_t batch, heads, kvHeads, queries, keys, dim;
        };
        for (const Case c :
             {Case{1, 1, 1, 1, 1, 1}, Case{2, 3, 3, 5, 17, 7}, Case{1, 12, 12, 50, 50, 64},
              Case{2, 4, 2, 3, 33, 72}, Case{3, 2, 1, 1, 70, 16}, Case{1, 2, 2, 9, 130, 5}})
            for (bool masked : {false, true}) {
                const int64_t room = c.keys + 3; // rows held per head, as in a KV cache's room
                const auto q = randoms(size_t(c.batch * c.heads * c.queries * c.dim), rng);
                const auto k = randoms(size_t(c.batch * c.kvHeads * room * c.dim), rng),
                           v = randoms(size_t(c.batch * c.kvHeads * room * c.dim), rng);
                std::vector<float> bias(size_t(c.batch * c.queries * c.keys), 0.0f),
                    hasKeys(size_t(c.batch * c.queries), 1.0f);
                if (masked) {
                    std::bernoulli_distribution hide(0.3);
                    for (auto& b : bias)
                        b = hide(rng) ? std::numeric_limits<float>::lowest() : 0.0f;
                    hasKeys[0] = 0; // the first query of the first batch sees nothing
                }
                Attention a;
                a.batch = c.batch;
                a.heads = c.heads;
                a.kvHeads = c.kvHeads;
                a.queries = c.queries;
                a.keys = c.keys;
                a.dim = c.dim;
                a.q = {q.data(), c.heads * c.queries * c.dim, c.queries * c.dim, c.dim};
                a.k = {k.data(), c.kvHeads * room * c.dim, room * c.dim, c.dim};
                a.v = {v.data(), c.kvHeads * room * c.dim, room * c.dim, c.dim};
                a.scale = 1.0f / std::sqrt(float(c.dim));
                if (masked) {
                    a.bias = bias.data();
                    a.hasKeys = hasKeys.data();
                }
                for (Isa isa : availableIsas()) {
                    std::vector<float> out(size_t(c.batch * c.queries * c.heads * c.dim), -7.0f);
                    a.out = out.data();
                    attention(a, isa);
                    for (int64_t b = 0; b < c.batch; ++b)
                        for (int64_t h = 0; h < c.heads; ++h)
                            for (int64_t i = 0; i < c.queries; ++i) {
                                const int64_t kv = h / (c.heads / c.kvHeads);
                                const float* qi = a.q.row(b, h, i);
                                std::vector<double> p(size_t(c.keys));
                                double most = -INFINITY, total = 0;
                                for (int64_t j = 0; j < c.keys; ++j) {
                                    double s = 0;
                                    for (int64_t d = 0; d < c.dim; ++d)
                                        s += double(qi[d]) * a.k.row(b, kv, j)[d];
                                    p[size_t(j)] = s * a.scale +
                                                   bias[size_t((b * c.queries + i) * c.keys + j)];
                                    most = std::max(most, p[size_t(j)]);
                                }
                                for (double& x : p)
                                    total += x = std::exp(x - most);
                                const bool none = hasKeys[size_t(b * c.queries + i)] == 0;
                                for (int64_t d = 0; d < c.dim; ++d) {
                                    double want = 0;
                                    for (int64_t j = 0; j < c.keys; ++j)
                                        want += p[size_t(j)] / total * a.v.row(b, kv, j)[d];
                                    if (none) want = 0;
                                    const float got = out[size_t(
                                        ((b * c.queries + i) * c.heads + h) * c.dim + d)];
                                    QVERIFY2(std::abs(got - want) <= 2e-5,
                                             qPrintable(QString("%1 b=%2 h=%3 i=%4 d=%5 keys=%6 "
                                                                "dim=%7: %8 against %9")
                                                            .arg(isaName(isa))
                                                            .arg(b)
                                                            .arg(h)
                                                            .arg(i)
                                                            .arg(d)
                                                            .arg(c.keys)
                                                            .arg(c.dim)
                                                            .arg(got)
                                                            .arg(want)));
                                }
                            }
                }
            }
    }

    // The wide panels hold each weight once, in fp32 as given, the padding zero.
    void widePanelsHoldEveryWeight() {
        std::mt19937 rng(17);
        for (int64_t k : {1, 5, 64})
            for (int64_t n : {1, 31, 32, 33}) {
                const auto w = randoms(size_t(n * k), rng);
                const WideWeights packed = packWide(w.data(), n, k);
                QCOMPARE(int64_t(packed.w.size()), (n + kWide - 1) / kWide * kWide * k);
                QCOMPARE(reinterpret_cast<uintptr_t>(packed.w.data()) % 64, uintptr_t(0));
                double held = 0, given = 0;
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t p = 0; p < k; ++p) {
                        QCOMPARE(packed.at(j, p), w[size_t(j * k + p)]);
                        given += std::abs(w[size_t(j * k + p)]);
                    }
                for (float v : packed.w)
                    held += std::abs(v);
                QCOMPARE(held, given);
            }
    }

    // The panels hold each weight as quantised or rounded in rows: at(j, p) reads back W[j, p]
    // (so the products above, checked against at(), are checked against the weights).
    void panelsHoldEveryWeight() {
        std::mt19937 rng(5);
        for (int64_t k : {1, 15, 16, 17, 33, 100})
            for (int64_t n : {1, 7, 8, 9, 20}) {
                const auto w = randoms(size_t(n * k), rng);
                std::vector<int8_t> q(size_t(n * k));
                std::vector<float> scale(static_cast<size_t>(n * groupsOf(k)));
                quantizeInt8(w.data(), n, k, q.data(), scale.data());
                std::vector<uint16_t> h(size_t(n * k));
                toHalf(w.data(), n * k, h.data());
                const Int8Weights pq = packInt8(w.data(), n, k);
                const HalfWeights ph = packHalf(w.data(), n, k);
                QCOMPARE(pq.n, n);
                QCOMPARE(pq.k, k);
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t p = 0; p < k; ++p) {
                        const size_t at = size_t(j * k + p);
                        QCOMPARE(pq.at(j, p),
                                 float(q[at]) * scale[size_t(j * groupsOf(k) + p / kGroup)]);
                        QCOMPARE(ph.at(j, p), fromHalf(h[at]));
                    }
                // Padding aside, each weight is held once.
                const int64_t padded =
                    (n + kPanel - 1) / kPanel * kPanel * ((k + kChunk - 1) / kChunk * kChunk);
                QCOMPARE(int64_t(pq.w.size()), padded);
                int64_t nonZero = 0;
                for (int8_t v : pq.w)
                    nonZero += v != 0;
                int64_t want = 0;
                for (int8_t v : q)
                    want += v != 0;
                QCOMPARE(nonZero, want);
            }
    }

    // Rounding to int8 costs at most half a step of each group's scale.
    void quantisationErrorIsHalfAStep() {
        std::mt19937 rng(3);
        const int64_t n = 5, k = 300;
        auto w = randoms(size_t(n * k), rng, 0.05f);
        w[17] = 0.9f; // an outlier sets its channel's scale
        std::vector<int8_t> q(size_t(n * k));
        std::vector<float> scale(static_cast<size_t>(n * groupsOf(k)));
        quantizeInt8(w.data(), n, k, q.data(), scale.data());
        for (int64_t j = 0; j < n; ++j)
            for (int64_t p = 0; p < k; ++p)
                QVERIFY(
                    std::abs(q[size_t(j * k + p)] * scale[size_t(j * groupsOf(k) + p / kGroup)] -
                             w[size_t(j * k + p)]) <=
                    scale[size_t(j * groupsOf(k) + p / kGroup)] * 0.5001f);
        QCOMPARE(q[17], int8_t(127));
        // The outlier coarsens its own group only.
        QVERIFY(scale[1] < scale[0] / 4);
        std::vector<float> zeros(8, 0.0f);
        quantizeInt8(zeros.data(), 1, 8, q.data(), scale.data()); // an all-zero channel
        QCOMPARE(q[0], int8_t(0));
    }

    // Every half value survives the round trip; float -> half rounds to nearest even.
    void halfConversionIsExact() {
        for (uint32_t bits = 0; bits < 65536; ++bits) {
            const uint16_t h = uint16_t(bits);
            const float f = fromHalf(h);
            if (std::isnan(f)) continue;
            uint16_t back;
            toHalf(&f, 1, &back);
            QVERIFY2(back == h, qPrintable(QString::number(bits, 16)));
        }
        const float cases[] = {1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65519.0f, 65520.0f, 1e-8f};
        const uint16_t want[] = {0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x0000};
        for (size_t i = 0; i < 5; ++i) {
            uint16_t h;
            toHalf(&cases[i], 1, &h);
            QCOMPARE(h, want[i]);
        }
    }

    // Split over threads or not, each channel is summed the same way: the same bits.
    void threadsDoNotChangeTheResult() {
        std::mt19937 rng(11);
        const int64_t m = 7, k = 768, n = 2304;
        const auto x = randoms(size_t(m * k), rng), w = randoms(size_t(n * k), rng);
        const Int8Weights q = packInt8(w.data(), n, k);
        const int before = kernelThreads();
        std::vector<float> one(size_t(m * n)), several(size_t(m * n));
        setKernelThreads(1);
        gemmInt8(x.data(), m, q, nullptr, one.data(), n);
        setKernelThreads(3);
        gemmInt8(x.data(), m, q, nullptr, several.data(), n);
        QVERIFY(one == several);
        const WideWeights wide = packWide(w.data(), n, k);
        const auto rows = randoms(size_t(50 * k), rng);
        std::vector<float> wideOne(size_t(50 * n)), wideSeveral(size_t(50 * n));
        setKernelThreads(1);
        gemmWide(rows.data(), 50, wide, nullptr, wideOne.data(), n);
        setKernelThreads(3);
        gemmWide(rows.data(), 50, wide, nullptr, wideSeveral.data(), n);
        setKernelThreads(before);
        QVERIFY(wideOne == wideSeveral);
    }
};

QTEST_GUILESS_MAIN(TestWeightKernels)
#include "test_weight_kernels.moc"
