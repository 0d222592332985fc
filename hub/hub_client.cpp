#include "hub_client.h"

#include "io/safetensors.h"

#include <QAuthenticator>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <memory>
#include <openssl/evp.h>
#include <unistd.h>

namespace esper::hub {

namespace {

QNetworkRequest requestFor(const HubSettings& s, const QUrl& url) {
    QNetworkRequest r(url);
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                   QNetworkRequest::NoLessSafeRedirectPolicy);
    r.setRawHeader("User-Agent", "esper-studio");
    if (!s.token.isEmpty()) r.setRawHeader("Authorization", "Bearer " + s.token.toUtf8());
    return r;
}

// One request, waited for; `onData` sees the body as it arrives (nothing kept otherwise).
struct Exchange {
    int status = 0;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorText;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    bool cancelled = false, timedOut = false;
    QByteArray header(const QByteArray& name) const {
        for (const auto& [k, v] : headers)
            if (k.compare(name, Qt::CaseInsensitive) == 0) return v;
        return {};
    }
};

Exchange run(const HubSettings& s, QNetworkRequest request, const QByteArray& verb,
             const std::function<bool(QNetworkReply*)>& onData = {},
             const std::atomic<bool>* cancel = nullptr) {
    if (!cancel) cancel = s.cancel;
    QNetworkAccessManager manager;
    // The hub's refusals are answered with words (explain), not credentials: leaving the
    // authenticator empty makes Qt finish the reply with its 401 instead of waiting.
    QObject::connect(&manager, &QNetworkAccessManager::authenticationRequired, &manager,
                     [](QNetworkReply*, QAuthenticator*) {});
    QNetworkReply* reply = manager.sendCustomRequest(request, verb);
    QEventLoop loop;
    QTimer idle, poll;
    idle.setSingleShot(true);
    idle.setInterval(s.timeoutMs);
    Exchange out;
    QObject::connect(&idle, &QTimer::timeout, &loop, [&] {
        out.timedOut = true;
        reply->abort();
    });
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (cancel && cancel->load()) {
            out.cancelled = true;
            reply->abort();
        }
    });
    QObject::connect(reply, &QNetworkReply::readyRead, &loop, [&] {
        idle.start();
        if (cancel && cancel->load()) { // between chunks too, not only on the timer
            out.cancelled = true;
            reply->abort();
            return;
        }
        if (onData) {
            if (!onData(reply)) reply->abort();
        } else {
            out.body += reply->readAll();
            if (out.body.size() > (64 << 20)) reply->abort(); // answers here are small
        }
    });
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    idle.start();
    poll.start(100);
    loop.exec();
    if (onData && !out.cancelled && !out.timedOut && reply->bytesAvailable() > 0) onData(reply);
    out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    out.error = reply->error();
    // Qt may report a refusal only as an error (a 401 whose connection closed at once).
    if (out.status == 0) {
        if (out.error == QNetworkReply::AuthenticationRequiredError) out.status = 401;
        if (out.error == QNetworkReply::ContentAccessDenied) out.status = 403;
        if (out.error == QNetworkReply::ContentNotFoundError) out.status = 404;
    }
    out.errorText = reply->errorString();
    out.headers = reply->rawHeaderPairs();
    reply->deleteLater();
    return out;
}

// 401/403/404 in words; other failures as the network said them.
QString explain(const Exchange& e, const QUrl& url) {
    const QString what = url.toString(QUrl::RemoveQuery);
    switch (e.status) {
    case 401:
    case 403:
        return QString("%1 needs permission (HTTP %2): the model is gated or private. Accept its "
                       "licence on its page on the hub while signed in, then set HF_TOKEN to an "
                       "access token of yours (huggingface.co/settings/tokens)")
            .arg(what)
            .arg(e.status);
    case 404:
        return QString("%1 does not exist (HTTP 404): check the repository name, the revision "
                       "and the file name")
            .arg(what);
    default:
        break;
    }
    if (e.timedOut) return what + ": no data arrived for a minute";
    if (e.status >= 400) return QString("%1 answered HTTP %2").arg(what).arg(e.status);
    return what + ": " + e.errorText;
}

bool transient(const Exchange& e) {
    if (e.cancelled) return false;
    if (e.status == 401 || e.status == 403 || e.status == 404 || e.status == 416) return false;
    return e.timedOut || e.status >= 500 || e.status == 429 || e.status == 0 ||
           e.error != QNetworkReply::NoError;
}

// The wait before attempt + 1: the first back-off, doubled each time.
void backOff(const HubSettings& s, int attempt) {
    QThread::msleep(static_cast<unsigned long>(s.firstBackoffMs << attempt));
}

// A GET tried again after transient failures; a redirect (when not followed) is an answer.
Exchange runRetried(const HubSettings& s, const QNetworkRequest& request) {
    Exchange e;
    for (int attempt = 0; attempt < s.attempts; ++attempt) {
        e = run(s, request, "GET");
        if (!transient(e) || (e.status >= 300 && e.status < 400)) break;
        if (attempt + 1 < s.attempts) backOff(s, attempt);
    }
    return e;
}

Error failWith(ErrorCode code, const QString& message) {
    return fail(code, message.toStdString());
}

// OpenSSL's SHA-256 (SHA-NI where the CPU has it, ~1.7 GB/s here) rather than Qt's portable one
// (~0.15 GB/s): verifying a multi-gigabyte model must not take longer than fetching it.
} // namespace

QString sha256OfFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
    QByteArray buffer(1 << 20, Qt::Uninitialized);
    for (qint64 n; (n = f.read(buffer.data(), buffer.size())) > 0;)
        EVP_DigestUpdate(ctx.get(), buffer.constData(), size_t(n));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    return QByteArray(reinterpret_cast<const char*>(digest), int(length)).toHex();
}

namespace {} // namespace

HubSettings settingsFromEnvironment(const QString& endpoint) {
    HubSettings s;
    const QString env = qEnvironmentVariable("HF_ENDPOINT");
    if (!endpoint.isEmpty())
        s.endpoint = endpoint;
    else if (!env.isEmpty())
        s.endpoint = env;
    while (s.endpoint.endsWith('/'))
        s.endpoint.chop(1);
    s.token = qEnvironmentVariable("HF_TOKEN");
    return s;
}

QUrl resolveUrl(const HubSettings& s, const QString& repo, const QString& file,
                const QString& revision) {
    return QUrl(s.endpoint + "/" + repo + "/resolve/" + revision + "/" + file);
}

Result<RemoteFile> inspect(const HubSettings& s, const QUrl& url) {
    // A one-byte GET, not followed when redirected: the hub's own answer carries an LFS file's
    // sha256 (X-Linked-Etag) and size (X-Linked-Size); a plain file's ETag is a git hash, so only
    // its size counts (from Content-Range). GET rather than HEAD: Qt waits for a body that never
    // comes on a HEAD refused with 401.
    QNetworkRequest request = requestFor(s, url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setRawHeader("Accept-Encoding", "identity");
    request.setRawHeader("Range", "bytes=0-0");
    const Exchange e = runRetried(s, request);
    if (e.status >= 400 || e.status == 0)
        return failWith(e.status == 404 ? ErrorCode::NotFound : ErrorCode::Failed, explain(e, url));
    RemoteFile f;
    const QByteArray linkedEtag = e.header("X-Linked-Etag");
    const QString tag = QString::fromLatin1(linkedEtag.isEmpty() ? e.header("ETag") : linkedEtag)
                            .remove('"')
                            .remove("W/");
    static const QRegularExpression sha256(QStringLiteral("^[0-9a-f]{64}$"));
    if (sha256.match(tag).hasMatch()) f.sha256 = tag;
    bool ok = false;
    if (const QByteArray linked = e.header("X-Linked-Size"); !linked.isEmpty()) {
        f.size = linked.toLongLong(&ok);
    } else if (e.status == 206) { // Content-Range: bytes 0-0/TOTAL
        const QByteArray range = e.header("Content-Range");
        f.size = range.mid(range.lastIndexOf('/') + 1).toLongLong(&ok);
    } else if (e.status == 200) {
        f.size = e.header("Content-Length").toLongLong(&ok);
    }
    if (!ok) f.size = -1;
    return f;
}

Result<void> download(const HubSettings& s, const QUrl& url, const QString& dest,
                      const RemoteFile& expected, const Progress& progress,
                      const std::atomic<bool>* cancel) {
    const QString partial = dest + ".incomplete";
    QDir().mkpath(QFileInfo(dest).absolutePath());
    if (cancel && cancel->load())
        return failWith(ErrorCode::Cancelled, "cancelled before it started");
    Exchange last;
    for (int attempt = 0; attempt < s.attempts; ++attempt) {
        QFile file(partial);
        if (!file.open(QIODevice::ReadWrite | QIODevice::Append))
            return failWith(ErrorCode::Failed,
                            "cannot write " + partial + ": " + file.errorString());
        qint64 offset = file.size();
        if (expected.size >= 0 && offset > expected.size) { // not this file: start again
            file.resize(0);
            offset = 0;
        }
        QNetworkRequest request = requestFor(s, url);
        request.setRawHeader("Accept-Encoding", "identity");
        if (offset > 0) request.setRawHeader("Range", "bytes=" + QByteArray::number(offset) + "-");
        bool writeFailed = false, restarted = false;
        last = run(
            s, request, "GET",
            [&](QNetworkReply* reply) {
                const int status =
                    reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                if (status >= 300) {
                    reply->readAll(); // an error page, not the file
                    return true;
                }
                // The server ignored the Range: the whole file comes again.
                if (status == 200 && offset > 0 && !restarted) {
                    file.resize(0);
                    offset = 0;
                    restarted = true;
                }
                const QByteArray chunk = reply->readAll();
                if (file.write(chunk) != chunk.size()) {
                    writeFailed = true;
                    return false;
                }
                if (progress) progress(file.size(), expected.size);
                return true;
            },
            cancel);
        // On the disk before it is renamed into place, so a crash never leaves a whole-looking
        // file with missing bytes.
        const bool flushed = file.flush() && ::fsync(file.handle()) == 0;
        file.close();
        if (writeFailed || !flushed)
            return failWith(ErrorCode::Failed, "cannot write " + partial + " (is the disk full?)");
        if (last.cancelled)
            return failWith(ErrorCode::Cancelled,
                            "cancelled; " + partial + " is kept, and the download resumes there");
        // 416: nothing left to send, the partial file may already be whole.
        const bool complete = last.status == 200 || last.status == 206 ||
                              (last.status == 416 && expected.size >= 0 &&
                               QFileInfo(partial).size() == expected.size);
        // A body cut short is not always reported as an error: the size says so, and the next
        // attempt resumes from there.
        const bool short_ = expected.size >= 0 && QFileInfo(partial).size() < expected.size;
        if (complete && last.error == QNetworkReply::NoError && !short_) break;
        if (complete && short_ && attempt + 1 < s.attempts) {
            backOff(s, attempt);
            continue;
        }
        if (last.status == 416 && QFileInfo(partial).size() != expected.size)
            QFile::remove(partial);
        if (!transient(last) && last.status != 416)
            return failWith(ErrorCode::Failed, explain(last, url));
        if (attempt + 1 == s.attempts)
            return failWith(ErrorCode::Failed,
                            explain(last, url) + QString(" (after %1 attempts; %2 is kept and a "
                                                         "new download resumes there)")
                                                     .arg(s.attempts)
                                                     .arg(partial));
        backOff(s, attempt);
    }
    const qint64 size = QFileInfo(partial).size();
    if (expected.size >= 0 && size != expected.size) {
        QFile::remove(partial);
        return failWith(ErrorCode::Failed, QString("%1 arrived with %2 bytes instead of %3; the "
                                                   "partial file was removed")
                                               .arg(url.toString())
                                               .arg(size)
                                               .arg(expected.size));
    }
    if (!expected.sha256.isEmpty()) {
        const QString got = sha256OfFile(partial);
        if (got != expected.sha256) {
            QFile::remove(partial);
            return failWith(ErrorCode::Failed,
                            QString("%1 arrived damaged: its sha256 is %2, the hub says %3; the "
                                    "partial file was removed")
                                .arg(url.toString(), got, expected.sha256));
        }
    }
    QFile::remove(dest);
    if (!QFile::rename(partial, dest))
        return failWith(ErrorCode::Failed, "cannot rename " + partial + " to " + dest);
    return {};
}

Result<qint64> safetensorsWeightBytes(const HubSettings& s, const QUrl& url) {
    auto range = [&](qint64 from, qint64 to) -> Result<QByteArray> {
        QNetworkRequest request = requestFor(s, url);
        request.setRawHeader("Range", QString("bytes=%1-%2").arg(from).arg(to).toLatin1());
        request.setRawHeader("Accept-Encoding", "identity");
        const Exchange e = run(s, request, "GET");
        if (e.status != 206 && e.status != 200) return failWith(ErrorCode::Failed, explain(e, url));
        // A server that ignores Range sends the whole file: only the bytes asked for count.
        return e.status == 200 ? e.body.mid(int(from), int(to - from + 1)) : e.body;
    };
    auto head = range(0, 7);
    ESPER_TRY(head);
    if (head->size() != 8)
        return failWith(ErrorCode::InvalidInput, url.toString() + " is too short");
    quint64 length = 0;
    for (int i = 7; i >= 0; --i)
        length = length << 8 | quint8(head.value()[i]);
    if (length > SafetensorsFile::kMaxHeaderBytes)
        return failWith(ErrorCode::InvalidInput, url.toString() + " is not a safetensors file");
    auto header = range(8, 8 + qint64(length) - 1);
    ESPER_TRY(header);
    const QJsonObject tensors = QJsonDocument::fromJson(header.value()).object();
    if (tensors.isEmpty())
        return failWith(ErrorCode::InvalidInput, url.toString() + " has no readable header");
    qint64 total = 0;
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const QJsonArray offsets = it.value().toObject()["data_offsets"].toArray();
        if (offsets.size() == 2) total += qint64(offsets[1].toDouble() - offsets[0].toDouble());
    }
    return total;
}

Result<QStringList> listRepoFiles(const HubSettings& s, const QString& repo,
                                  const QString& revision) {
    const QUrl url(s.endpoint + "/api/models/" + repo + "/revision/" + revision);
    const Exchange e = runRetried(s, requestFor(s, url));
    if (e.status != 200)
        return failWith(e.status == 404 ? ErrorCode::NotFound : ErrorCode::Failed, explain(e, url));
    QStringList files;
    for (const auto& sibling : QJsonDocument::fromJson(e.body).object()["siblings"].toArray())
        files << sibling.toObject()["rfilename"].toString();
    return files;
}

QStringList filesToFetch(const QStringList& repoFiles) {
    static const QStringList wanted = {"config.json",
                                       "model.safetensors",
                                       "model.safetensors.index.json",
                                       "vocab.json",
                                       "merges.txt",
                                       "tokenizer.json",
                                       "tokenizer.model",
                                       "tokenizer_config.json",
                                       "special_tokens_map.json",
                                       "generation_config.json",
                                       "preprocessor_config.json"};
    static const QRegularExpression shard(QStringLiteral("^model-\\d+-of-\\d+\\.safetensors$"));
    QStringList out;
    for (const QString& f : repoFiles)
        if (wanted.contains(f) || shard.match(f).hasMatch()) out << f;
    return out;
}

} // namespace esper::hub
