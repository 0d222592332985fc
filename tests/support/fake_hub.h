// A Hugging Face hub served on 127.0.0.1 for tests: the resolve/ URL scheme with the hub's
// headers (X-Linked-Etag, X-Linked-Size, Content-Range), Range requests, a redirect, a gated
// repository (401 without "Bearer secret"), a missing one (404), a damaged file (a wrong
// sha256), the repository API, and a connection dropped mid-file on request.
#pragma once

#include <QCryptographicHash>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <memory>

namespace esper::test {

// A safetensors file of two tensors (F32 [256, 128] and F16 [1000]): 133,120 bytes of weights.
inline QByteArray makeSafetensors() {
    const QByteArray header =
        R"({"a":{"dtype":"F32","shape":[256,128],"data_offsets":[0,131072]},)"
        R"("b":{"dtype":"F16","shape":[1000],"data_offsets":[131072,133072]}})";
    QByteArray out;
    quint64 n = quint64(header.size());
    for (int i = 0; i < 8; ++i)
        out += char((n >> (8 * i)) & 0xFF);
    out += header;
    for (int i = 0; i < 133072; ++i)
        out += char((i * 7919) % 251);
    return out;
}

class FakeHub : public QObject {
public:
    QByteArray weights = makeSafetensors();
    QByteArray config = R"({"model_type": "gpt2"})";
    int dropNextFullGetAfter = 0; // bytes; 0: serve whole
    bool slow = false;            // bodies trickle in (4 KB every 20 ms)
    QList<QByteArray> ranges;     // Range headers of the GETs of model.safetensors
    qint64 bytesSent = 0;
    QHash<QByteArray, QByteArray> extraFiles; // path -> body, served as plain files (no LFS)

    FakeHub() {
        server_.listen(QHostAddress::LocalHost, 0);
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* socket = server_.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { serve(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
    QString endpoint() const { return QString("http://127.0.0.1:%1").arg(server_.serverPort()); }

private:
    QTcpServer server_;
    QHash<QTcpSocket*, QByteArray> pending_;

    static QByteArray sha256(const QByteArray& b) {
        return QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex();
    }

    void reply(QTcpSocket* socket, int status, const QByteArray& body, bool head,
               QList<QPair<QByteArray, QByteArray>> headers = {}, qint64 cutAfter = -1) {
        static const QHash<int, QByteArray> reasons = {
            {200, "OK"},           {206, "Partial Content"}, {302, "Found"},
            {401, "Unauthorized"}, {404, "Not Found"},       {416, "Range Not Satisfiable"}};
        QByteArray out =
            "HTTP/1.1 " + QByteArray::number(status) + " " + reasons.value(status) + "\r\n";
        headers.append(qMakePair(QByteArray("Content-Length"), QByteArray::number(body.size())));
        // A refusal keeps the connection open, as the hub does (Qt answers a closed one after a
        // 401 with "connection closed" instead of the status).
        if (status != 401) headers.append(qMakePair(QByteArray("Connection"), QByteArray("close")));
        for (const auto& [k, v] : headers)
            out += k + ": " + v + "\r\n";
        out += "\r\n";
        // A slow hub: the body in 4 KB pieces, one every 20 ms.
        if (slow && !head && body.size() > 4096 && cutAfter < 0) {
            socket->write(out);
            auto sent = std::make_shared<qsizetype>(0);
            auto* timer = new QTimer(socket);
            QObject::connect(timer, &QTimer::timeout, socket, [socket, body, sent, timer] {
                if (socket->state() != QAbstractSocket::ConnectedState) return timer->stop();
                socket->write(body.mid(*sent, 4096));
                *sent += 4096;
                if (*sent >= body.size()) {
                    timer->stop();
                    socket->disconnectFromHost();
                }
            });
            timer->start(20);
            return;
        }
        if (!head) out += cutAfter >= 0 ? body.left(int(cutAfter)) : body;
        bytesSent += out.size();
        socket->write(out);
        socket->flush();
        if (cutAfter >= 0) {
            socket->waitForBytesWritten(1000);
            socket->abort(); // the connection drops mid-file
            return;
        }
        if (status != 401) socket->disconnectFromHost();
    }

    void serve(QTcpSocket* socket) {
        QByteArray& request = pending_[socket];
        request += socket->readAll();
        if (!request.contains("\r\n\r\n")) return;
        const QList<QByteArray> lines = request.split('\n');
        const QList<QByteArray> first = lines[0].trimmed().split(' ');
        const QByteArray method = first.value(0), path = first.value(1);
        QHash<QByteArray, QByteArray> h;
        for (int i = 1; i < lines.size(); ++i) {
            const int colon = lines[i].indexOf(':');
            if (colon > 0)
                h[lines[i].left(colon).trimmed().toLower()] = lines[i].mid(colon + 1).trimmed();
        }
        pending_.remove(socket);
        const bool head = method == "HEAD";
        if (path == "/api/models/org/model/revision/main") {
            QJsonArray siblings;
            for (const char* f :
                 {"config.json", "model.safetensors", "pytorch_model.bin", "README.md"})
                siblings.append(QJsonObject{{"rfilename", f}});
            return reply(socket, 200, QJsonDocument(QJsonObject{{"siblings", siblings}}).toJson(),
                         head);
        }
        if (path.startsWith("/gated/") && h.value("authorization") != "Bearer secret")
            return reply(socket, 401, "unauthorized", head,
                         {{"WWW-Authenticate", "Bearer realm=\"Authentication required\""}});
        if (path == "/org/redirected/resolve/main/config.json")
            return reply(socket, 302, {}, head,
                         {{"Location", "/org/model/resolve/main/config.json"}});
        if (path.endsWith("/config.json") && !path.startsWith("/org/missing"))
            return reply(socket, 200, config, head, {{"ETag", "\"0123abcd\""}});
        if (path.endsWith("/model.safetensors") && !path.startsWith("/org/missing")) {
            const QByteArray sha =
                path.startsWith("/org/corrupt") ? QByteArray(64, 'a') : sha256(weights);
            const QList<QPair<QByteArray, QByteArray>> lfs = {
                {"X-Linked-Etag", "\"" + sha + "\""},
                {"X-Linked-Size", QByteArray::number(weights.size())}};
            if (head) return reply(socket, 200, weights, true, lfs);
            ranges << h.value("range");
            if (h.contains("range")) {
                const QByteArray spec = h.value("range").mid(6); // bytes=FROM-[TO]
                const qint64 from = spec.split('-')[0].toLongLong();
                const QByteArray toText = spec.split('-').value(1);
                const qint64 to = toText.isEmpty() ? weights.size() - 1 : toText.toLongLong();
                if (from >= weights.size()) return reply(socket, 416, {}, false);
                auto partial = lfs;
                partial.append(
                    {"Content-Range",
                     QString("bytes %1-%2/%3").arg(from).arg(to).arg(weights.size()).toLatin1()});
                return reply(socket, 206, weights.mid(int(from), int(to - from + 1)), false,
                             partial);
            }
            const int cut = dropNextFullGetAfter;
            dropNextFullGetAfter = 0;
            return reply(socket, 200, weights, false, lfs, cut > 0 ? cut : -1);
        }
        if (extraFiles.contains(path)) return reply(socket, 200, extraFiles.value(path), head);
        reply(socket, 404, "not found", head);
    }
};

} // namespace esper::test
