// Where a generated caption came from: the bundle, style, prompt, decoding settings and seed.
// Review items keep one per candidate, so a reviewer can tell how each was made and a script
// reading the JSONL export can make it again.
#pragma once

#include "engine/engine_types.h"

#include <QJsonObject>
#include <QString>

namespace esper::ui {

QJsonObject captionOrigin(const QString& bundle, const StyleCaption& caption,
                          const DecodingSettings& decoding);
// One line for people: "demo · caption (prompt "caption:"), greedy, ≤ 20 tokens".
QString describeOrigin(const QJsonObject& origin);

} // namespace esper::ui
