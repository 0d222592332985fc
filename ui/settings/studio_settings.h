// Typed access to what the studio remembers between runs (QSettings underneath), so no key
// string or conversion is repeated across the UI.
#pragma once

#include "engine/engine_types.h"
#include "quality/caption_quality.h"

#include <QByteArray>
#include <QJsonObject>
#include <QSettings>
#include <QString>
#include <QStringList>
#include <QVector>

namespace esper::ui {

class StudioSettings {
public:
    StudioSettings();

    QString modelsDir() const;
    void setModelsDir(const QString& dir);
    QString lastBundle() const;
    void setLastBundle(const QString& dir);
    QStringList recentBundles() const; // most recent first
    void addRecentBundle(const QString& dir);
    QString device() const;
    void setDevice(const QString& device);
    QVector<StyleSpec> styles() const; // empty: none saved yet
    void setStyles(const QVector<StyleSpec>& styles);
    DecodingSettings decoding() const;
    void setDecoding(const DecodingSettings& d);
    // The last fine-tune the Training page started, and whether it ran to its end.
    QJsonObject lastTraining() const;
    bool lastTrainingFinished() const;
    void setLastTraining(const QJsonObject& request, bool finished);
    // The review's quality-check thresholds (core/quality's defaults until changed).
    QualityOptions qualityOptions() const;
    void setQualityOptions(const QualityOptions& o);
    QString appearance() const; // "system", "light" or "dark"
    void setAppearance(const QString& name);
    // The export form's last choices (ExportDialog::choices).
    QJsonObject exportChoices() const;
    void setExportChoices(const QJsonObject& choices);
    // The memory a model's weights need, as last read from `endpoint` (-1: not known), so the
    // Models page shows it without the network.
    qint64 modelMemory(const QString& endpoint, const QString& id) const;
    void setModelMemory(const QString& endpoint, const QString& id, qint64 bytes);
    QByteArray windowGeometry() const;
    QByteArray windowState() const;
    void setWindow(const QByteArray& geometry, const QByteArray& state);

private:
    mutable QSettings settings_;
};

} // namespace esper::ui
