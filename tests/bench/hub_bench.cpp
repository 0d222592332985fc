// Downloads measured over loopback: a hub served on 127.0.0.1 from its own thread streams a file
// of N MB (default 512) to hub::download, which writes it to disk and checks its sha256. Prints
// JSON: the download's MB/s, the sha256 check's seconds per GB, and the disk's own write speed
// for the same bytes as the ceiling beside them.
//   hub_bench [MB] [DIR]
#include "hub_client.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <cstdio>
#include <unistd.h>

namespace {

// Serves one file of `size` bytes at any path, with its sha256 as the hub gives it; Range
// requests are not needed here.
class StreamServer : public QTcpServer {
public:
    StreamServer(qint64 size, QByteArray chunk, QByteArray sha256)
        : size_(size), chunk_(std::move(chunk)), sha256_(std::move(sha256)) {}

protected:
    void incomingConnection(qintptr handle) override {
        auto* socket = new QTcpSocket(this);
        socket->setSocketDescriptor(handle);
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
            const QByteArray request = socket->readAll();
            if (!request.contains("\r\n\r\n")) return;
            const bool head = request.startsWith("HEAD");
            const bool probe =
                request.contains("Range: bytes=0-0") || request.contains("range: bytes=0-0");
            QByteArray out = probe ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
            out += "X-Linked-Etag: \"" + sha256_ +
                   "\"\r\nX-Linked-Size: " + QByteArray::number(size_) +
                   "\r\nConnection: close\r\n";
            out += "Content-Length: " + QByteArray::number(probe ? 1 : size_) + "\r\n\r\n";
            socket->write(out);
            if (head) return socket->disconnectFromHost();
            if (probe) {
                socket->write(chunk_.left(1));
                return socket->disconnectFromHost();
            }
            auto sent = std::make_shared<qint64>(0);
            auto feed = [this, socket, sent] {
                // Keep a few chunks queued, no more: the client reads at its own pace.
                while (*sent < size_ && socket->bytesToWrite() < 4 * chunk_.size()) {
                    const qint64 n = std::min<qint64>(chunk_.size(), size_ - *sent);
                    socket->write(chunk_.constData(), n);
                    *sent += n;
                }
                if (*sent >= size_ && socket->bytesToWrite() == 0) socket->disconnectFromHost();
            };
            connect(socket, &QTcpSocket::bytesWritten, socket, feed);
            feed();
        });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    qint64 size_;
    QByteArray chunk_, sha256_;
};

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const qint64 mb = argc > 1 ? QByteArray(argv[1]).toLongLong() : 512;
    QTemporaryDir tmp(argc > 2 ? QString(argv[2]) + "/hub-bench-XXXXXX" : QString());
    const qint64 size = mb << 20;
    QByteArray chunk(1 << 20, '\0');
    for (int i = 0; i < chunk.size(); ++i)
        chunk[i] = char((i * 131) % 251);
    QCryptographicHash whole(QCryptographicHash::Sha256);
    for (qint64 done = 0; done < size; done += chunk.size())
        whole.addData(chunk);
    const QByteArray sha = whole.result().toHex();

    // The server has a thread of its own, so the client's reading and writing are measured,
    // not the two taking turns on one event loop.
    QThread serverThread;
    auto* server = new StreamServer(size, chunk, sha);
    server->moveToThread(&serverThread);
    serverThread.start();
    QMetaObject::invokeMethod(
        server, [server] { server->listen(QHostAddress::LocalHost, 0); },
        Qt::BlockingQueuedConnection);

    esper::hub::HubSettings s;
    s.endpoint = QString("http://127.0.0.1:%1").arg(server->serverPort());
    const QUrl url = esper::hub::resolveUrl(s, "bench/model", "model.safetensors");
    auto remote = esper::hub::inspect(s, url);
    if (!remote) {
        std::fprintf(stderr, "hub_bench: %s\n", remote.error().c_str());
        return 1;
    }
    // The ceiling: the same bytes written to the same disk and flushed, without a network.
    QElapsedTimer timer;
    timer.start();
    QFile plain(tmp.path() + "/plain.bin");
    plain.open(QIODevice::WriteOnly);
    for (qint64 done = 0; done < size; done += chunk.size())
        plain.write(chunk);
    plain.flush();
    ::fsync(plain.handle());
    plain.close();
    const double diskS = timer.nsecsElapsed() / 1e9;
    QFile::remove(tmp.path() + "/plain.bin");
    // The download as users get it: written, flushed, its sha256 checked, renamed.
    const QString dest = tmp.path() + "/model.safetensors";
    timer.restart();
    auto ok = esper::hub::download(s, url, dest, remote.value());
    const double downloadS = timer.nsecsElapsed() / 1e9;
    if (!ok) {
        std::fprintf(stderr, "hub_bench: %s\n", ok.error().c_str());
        return 1;
    }
    // The check alone, over the file just written.
    timer.restart();
    const bool same = esper::hub::sha256OfFile(dest) == sha;
    const double shaS = timer.nsecsElapsed() / 1e9;

    QMetaObject::invokeMethod(
        server, [server] { delete server; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();
    std::printf("{\"megabytes\": %lld, \"download_mb_per_s\": %.1f, \"download_s\": %.3f, "
                "\"disk_write_mb_per_s\": %.1f, \"sha256_s_per_gb\": %.3f, \"sha256_ok\": %s}\n",
                static_cast<long long>(mb), mb / downloadS, downloadS, mb / diskS,
                shaS / (mb / 1024.0), same ? "true" : "false");
    return 0;
}
