// The plain values that travel between the UI and the engine worker through queued signals.
// Widgets see only these; no engine or torch type reaches them.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace esper::ui {

struct StyleSpec {
    QString id;     // preset id or the user's name for it
    QString label;  // shown on its card
    QString prompt; // text after the prefix embeddings
};

struct DecodingSettings {
    bool sample = false;
    int maxTokens = 20;
    double temperature = 0.7;
    int topK = 50;
    double topP = 1.0;
    int noRepeat = 2;
    int bestOf = 1;
    quint64 seed = 0;
    bool cutAtPeriod = true;
};

struct StyleCaption {
    QString styleId;
    QString text;
    double clipS = 0;
    double cosine = 0;
    QString prompt; // the style's prompt that produced it
};

struct CaptionOutcome {
    QString imagePath;              // the file captioned; empty for live sound
    bool audio = false;             // captioned from sound: clipS is audio CLIP-S
    QVector<StyleCaption> captions; // in the order of the request's styles
    QString error;                  // empty on success
    bool cancelled = false;
    double milliseconds = 0;
    DecodingSettings decoding; // what produced the captions (their provenance)
};

struct ScoreOutcome {
    QString imagePath;
    QVector<double> clipS;    // per caption
    QVector<double> refClipS; // per caption; empty without references
    QString error;
};

// Sound captured live, at `sampleRate` mono.
struct SoundClip {
    QVector<float> samples;
    int sampleRate = 16000;
};

struct BundleInfo {
    bool ok = false;
    bool audio = false; // the bundle has an audio encoder
    QString error;
    QString name, dir, device, description;
    QVector<StyleSpec> styles; // the bundle's own styles
};

} // namespace esper::ui

Q_DECLARE_METATYPE(esper::ui::StyleSpec)
Q_DECLARE_METATYPE(esper::ui::DecodingSettings)
Q_DECLARE_METATYPE(esper::ui::CaptionOutcome)
Q_DECLARE_METATYPE(esper::ui::BundleInfo)
Q_DECLARE_METATYPE(esper::ui::ScoreOutcome)
Q_DECLARE_METATYPE(esper::ui::SoundClip)
