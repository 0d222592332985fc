// Interleaved PCM of any Qt sample format (what QAudioDecoder and QAudioSource hand over) as
// mono float: the decoder of sound files and live listening read it the same way.
#pragma once

#include <QAudioFormat>
#include <vector>

namespace esper::media {

// `frames` frames of `format` at `data`, channels averaged.
std::vector<float> mixToMono(const QAudioFormat& format, const char* data, qsizetype frames);

} // namespace esper::media
