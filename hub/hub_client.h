// The Hugging Face hub over HTTP(S), with Qt Network (the engine stays free of networking):
// files fetched by the hub's own URL scheme, {endpoint}/{repo}/resolve/{revision}/{file},
// resumed with Range requests after a dropped connection, a cancel or a restart (as
// FILE.incomplete), verified against the sha256 the hub reports for large files (or the size),
// retried with back-off on transient failures, and 401/403/404 explained in words. Calls block
// (a local event loop) and need a Q(Core)Application; the studio makes them on a worker thread.
#pragma once

#include "util/result.h"

#include <QString>
#include <QStringList>
#include <QUrl>
#include <atomic>
#include <functional>

namespace esper::hub {

struct HubSettings {
    QString endpoint = "https://huggingface.co"; // --endpoint, else $HF_ENDPOINT
    QString token;                               // $HF_TOKEN: sent as a bearer token
    int attempts = 4;                            // for transient failures
    int firstBackoffMs = 1000;                   // doubled after each
    int timeoutMs = 60000;                       // without a byte arriving
    // Every request stops soon after this turns true (a closing window's estimates).
    const std::atomic<bool>* cancel = nullptr;
};
// The settings from the environment, the endpoint overridden when `endpoint` is given.
HubSettings settingsFromEnvironment(const QString& endpoint = {});

QUrl resolveUrl(const HubSettings& s, const QString& repo, const QString& file,
                const QString& revision = "main");

// What the hub says of a file before it is fetched.
struct RemoteFile {
    qint64 size = -1; // -1: unknown
    QString sha256;   // empty: not an LFS file, verified by size only
};
Result<RemoteFile> inspect(const HubSettings& s, const QUrl& url);

using Progress = std::function<void(qint64 done, qint64 total)>;
// Fetches `url` into `dest`, resuming DEST.incomplete when it exists; verified against
// `expected`, renamed into place only when complete. A mismatch deletes the partial file.
Result<void> download(const HubSettings& s, const QUrl& url, const QString& dest,
                      const RemoteFile& expected, const Progress& progress = {},
                      const std::atomic<bool>* cancel = nullptr);

// A file's SHA-256 in hex (OpenSSL's, with the CPU's SHA instructions); empty if unreadable.
QString sha256OfFile(const QString& path);

// The memory a safetensors file's weights take, from its header alone (two Range requests of
// a few kilobytes): the sum of each tensor's element count times its dtype's size.
Result<qint64> safetensorsWeightBytes(const HubSettings& s, const QUrl& url);

// The files of a repository at a revision, from the hub's API.
Result<QStringList> listRepoFiles(const HubSettings& s, const QString& repo,
                                  const QString& revision = "main");
// Of those, what a model folder needs: config, weights (safetensors only), tokenizer files.
QStringList filesToFetch(const QStringList& repoFiles);

} // namespace esper::hub
