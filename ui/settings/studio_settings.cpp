#include "studio_settings.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace esper::ui {

StudioSettings::StudioSettings() : settings_("ESPER Studio", "esper-studio") {}

QString StudioSettings::modelsDir() const {
    const QString env = qEnvironmentVariable("ESPER_MODELS_DIR");
    return settings_
        .value("models/dir",
               env.isEmpty() ? QDir::homePath() + "/.local/share/esper-studio/models" : env)
        .toString();
}
void StudioSettings::setModelsDir(const QString& dir) {
    settings_.setValue("models/dir", dir);
}
QString StudioSettings::lastBundle() const {
    return settings_.value("models/bundle").toString();
}
void StudioSettings::setLastBundle(const QString& dir) {
    settings_.setValue("models/bundle", dir);
}
QStringList StudioSettings::recentBundles() const {
    return settings_.value("models/recent").toStringList();
}
void StudioSettings::addRecentBundle(const QString& dir) {
    QStringList recent = recentBundles();
    recent.removeAll(dir);
    recent.prepend(dir);
    constexpr int kKept = 8;
    while (recent.size() > kKept)
        recent.removeLast();
    settings_.setValue("models/recent", recent);
}
QString StudioSettings::device() const {
    return settings_.value("models/device", "cpu").toString();
}
void StudioSettings::setDevice(const QString& device) {
    settings_.setValue("models/device", device);
}

QVector<StyleSpec> StudioSettings::styles() const {
    QVector<StyleSpec> out;
    const auto doc = QJsonDocument::fromJson(settings_.value("styles/active").toByteArray());
    for (const auto& v : doc.array()) {
        const auto o = v.toObject();
        out.push_back({o["id"].toString(), o["label"].toString(), o["prompt"].toString()});
    }
    return out;
}

void StudioSettings::setStyles(const QVector<StyleSpec>& styles) {
    QJsonArray a;
    for (const auto& s : styles)
        a.append(QJsonObject{{"id", s.id}, {"label", s.label}, {"prompt", s.prompt}});
    settings_.setValue("styles/active", QJsonDocument(a).toJson(QJsonDocument::Compact));
}

DecodingSettings StudioSettings::decoding() const {
    DecodingSettings d;
    d.sample = settings_.value("decoding/sample", d.sample).toBool();
    d.maxTokens = settings_.value("decoding/maxTokens", d.maxTokens).toInt();
    d.temperature = settings_.value("decoding/temperature", d.temperature).toDouble();
    d.topK = settings_.value("decoding/topK", d.topK).toInt();
    d.topP = settings_.value("decoding/topP", d.topP).toDouble();
    d.noRepeat = settings_.value("decoding/noRepeat", d.noRepeat).toInt();
    d.bestOf = settings_.value("decoding/bestOf", d.bestOf).toInt();
    d.cutAtPeriod = settings_.value("decoding/cutAtPeriod", d.cutAtPeriod).toBool();
    return d;
}

void StudioSettings::setDecoding(const DecodingSettings& d) {
    settings_.setValue("decoding/sample", d.sample);
    settings_.setValue("decoding/maxTokens", d.maxTokens);
    settings_.setValue("decoding/temperature", d.temperature);
    settings_.setValue("decoding/topK", d.topK);
    settings_.setValue("decoding/topP", d.topP);
    settings_.setValue("decoding/noRepeat", d.noRepeat);
    settings_.setValue("decoding/bestOf", d.bestOf);
    settings_.setValue("decoding/cutAtPeriod", d.cutAtPeriod);
}

QJsonObject StudioSettings::lastTraining() const {
    return QJsonDocument::fromJson(settings_.value("training/last").toByteArray()).object();
}
bool StudioSettings::lastTrainingFinished() const {
    return settings_.value("training/lastFinished", true).toBool();
}
void StudioSettings::setLastTraining(const QJsonObject& request, bool finished) {
    settings_.setValue("training/last", QJsonDocument(request).toJson(QJsonDocument::Compact));
    settings_.setValue("training/lastFinished", finished);
}
QByteArray StudioSettings::windowGeometry() const {
    return settings_.value("window/geometry").toByteArray();
}
QByteArray StudioSettings::windowState() const {
    return settings_.value("window/state").toByteArray();
}
void StudioSettings::setWindow(const QByteArray& geometry, const QByteArray& state) {
    settings_.setValue("window/geometry", geometry);
    settings_.setValue("window/state", state);
}

} // namespace esper::ui
