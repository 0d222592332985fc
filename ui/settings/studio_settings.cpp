#include "studio_settings.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <variant>

namespace esper::ui {

namespace {
// A settings group as a table of (key, member): the same table reads and writes it, so a key
// is never spelled twice.
template <class S> using Member = std::variant<bool S::*, int S::*, double S::*>;
template <class S> struct Field {
    const char* key;
    Member<S> member;
};

// The group's values over S's defaults.
template <class S>
S readFields(const QSettings& q, const QString& group, std::initializer_list<Field<S>> fields) {
    S s;
    for (const auto& f : fields)
        std::visit(
            [&](auto member) {
                using T = std::decay_t<decltype(s.*member)>;
                s.*member = q.value(group + "/" + f.key, s.*member).template value<T>();
            },
            f.member);
    return s;
}

template <class S>
void writeFields(QSettings& q, const QString& group, const S& s,
                 std::initializer_list<Field<S>> fields) {
    for (const auto& f : fields)
        std::visit([&](auto member) { q.setValue(group + "/" + f.key, s.*member); }, f.member);
}

const std::initializer_list<Field<DecodingSettings>> kDecodingFields = {
    {"sample", &DecodingSettings::sample},
    {"maxTokens", &DecodingSettings::maxTokens},
    {"temperature", &DecodingSettings::temperature},
    {"topK", &DecodingSettings::topK},
    {"topP", &DecodingSettings::topP},
    {"noRepeat", &DecodingSettings::noRepeat},
    {"bestOf", &DecodingSettings::bestOf},
    {"cutAtPeriod", &DecodingSettings::cutAtPeriod}};

const std::initializer_list<Field<QualityOptions>> kQualityFields = {
    {"minWords", &QualityOptions::minWords},
    {"repeat", &QualityOptions::repeatedNgramTimes},
    {"lowClipSSigmas", &QualityOptions::lowClipSSigmas},
    {"duplicate", &QualityOptions::duplicateJaccard}};
} // namespace

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
    return readFields(settings_, "decoding", kDecodingFields);
}

void StudioSettings::setDecoding(const DecodingSettings& d) {
    writeFields(settings_, "decoding", d, kDecodingFields);
}

namespace {
QJsonObject readObject(const QSettings& settings, const QString& key) {
    return QJsonDocument::fromJson(settings.value(key).toByteArray()).object();
}
void writeObject(QSettings& settings, const QString& key, const QJsonObject& o) {
    settings.setValue(key, QJsonDocument(o).toJson(QJsonDocument::Compact));
}
} // namespace

QJsonObject StudioSettings::lastTraining() const {
    return readObject(settings_, "training/last");
}
bool StudioSettings::lastTrainingFinished() const {
    return settings_.value("training/lastFinished", true).toBool();
}
void StudioSettings::setLastTraining(const QJsonObject& request, bool finished) {
    writeObject(settings_, "training/last", request);
    settings_.setValue("training/lastFinished", finished);
}
QString StudioSettings::appearance() const {
    return settings_.value("view/appearance", "system").toString();
}
void StudioSettings::setAppearance(const QString& name) {
    settings_.setValue("view/appearance", name);
}
QJsonObject StudioSettings::exportChoices() const {
    return readObject(settings_, "review/export");
}
void StudioSettings::setExportChoices(const QJsonObject& choices) {
    writeObject(settings_, "review/export", choices);
}
QualityOptions StudioSettings::qualityOptions() const {
    return readFields(settings_, "quality", kQualityFields);
}
void StudioSettings::setQualityOptions(const QualityOptions& o) {
    writeFields(settings_, "quality", o, kQualityFields);
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

namespace {
QString memoryKey(const QString& endpoint, const QString& id) {
    // One key per hub and model; '/' would open QSettings groups.
    return "modelMemory/" + QString::fromLatin1(QUrl::toPercentEncoding(endpoint + " " + id));
}
} // namespace

qint64 StudioSettings::modelMemory(const QString& endpoint, const QString& id) const {
    return settings_.value(memoryKey(endpoint, id), -1).toLongLong();
}

void StudioSettings::setModelMemory(const QString& endpoint, const QString& id, qint64 bytes) {
    settings_.setValue(memoryKey(endpoint, id), bytes);
}

} // namespace esper::ui
