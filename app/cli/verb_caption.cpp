#include "args.h"
#include "verbs.h"

#include "audio/audio_windows.h"
#include "audio_decoder.h"
#include "blas_tuning.h"
#include "bundle_flags.h"
#include "decode_flags.h"
#include "image_decoder.h"
#include "image_inputs.h"
#include "media_kind.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace esper::cli {

namespace {

const std::string kHelp =
    std::string(
        "usage: esper caption FILES|FOLDERS|GLOBS... [--style S]... [--prompt TEXT]... "
        "[options]\n\n"
        "Captions every image and sound in each requested style (all styles of one input run as\n"
        "one batch) and scores each caption with CLIP. Writes one JSON line per input and style:\n"
        "  {path, modality, style, prompt, caption, tokens, clip_s, cosine, logprob, ms}\n"
        "and for an input that cannot be read: {path, error}. Progress goes to stderr.\n"
        "Files are told apart by content. Sounds (WAV, FLAC, Ogg, MP3, ... ) need a bundle with\n"
        "an audio encoder; a sound longer than the window is captioned window by window, each\n"
        "record with its start and end in seconds; their clip_s is audio CLIP-S (the sound's\n"
        "embedding against the caption's CLIP text embedding).\n\n"
        "  --style S               a preset (caption, news, sns, blog, story, instruction,\n"
        "                          dialogue, image-of, photo-describes, plain: no prompt, as\n"
        "                          ClipCap's mappers) or any prompt text;\n"
        "                          repeatable (default: the bundle's styles)\n"
        "  --prompt TEXT           a raw prompt, e.g. \"The photo describes a\" (repeatable)\n"
        "  --photo-prefix          score with \"A photo depicts \" as clipscore.py does\n"
        "  --jsonl FILE            write the records to FILE (default: stdout)\n"
        "  --json                  print one JSON array at the end instead of lines\n"
        "  --window SECONDS        length of the windows long sounds are captioned in (5)\n") +
    kBundleFlagsHelp + kDecodeFlagsHelp +
    "exit status: 0 when at least one image was captioned, 1 when none "
    "could be, 2 for usage or bundle errors\n";

std::string formatSeconds(double s) {
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
    return buf;
}

// Where the records go: stdout, or FILE written as FILE.partial and renamed when complete.
// Every write is checked: on a full disk (or a file-size limit) the run stops at once, says so,
// and the partial file is never renamed into place.
class RecordSink {
public:
    RecordSink(std::string path, bool jsonArray) : path_(std::move(path)), array_(jsonArray) {
        if (!path_.empty()) file_ = std::fopen(partial().c_str(), "w");
    }
    ~RecordSink() {
        if (file_) std::fclose(file_);
    }
    bool ok() const { return path_.empty() || file_; }
    // A write failed: stop captioning, nothing more can be kept.
    bool failed() const { return !writeError_.empty(); }
    void add(const nlohmann::ordered_json& record) {
        if (array_) {
            all_.push_back(record);
            return;
        }
        write(dumpJson(record) + "\n");
    }
    Result<void> finish() {
        if (array_ && !failed()) write(dumpJson(all_, 2) + "\n");
        if (!file_) {
            if (failed()) return fail(writeError_);
            return {};
        }
        if (!failed() && ::fsync(::fileno(file_)) != 0) noteError();
        if (std::fclose(file_) != 0 && !failed()) noteError();
        file_ = nullptr;
        if (failed())
            return fail(writeError_ + "; the records written so far are in " + partial() +
                        ", and " + path_ + " was not replaced");
        if (std::rename(partial().c_str(), path_.c_str()) != 0)
            return fail("cannot rename " + partial() + " to " + path_ + ": " +
                        std::strerror(errno));
        return {};
    }

private:
    std::string partial() const { return path_ + ".partial"; }
    void write(const std::string& text) {
        if (failed()) return;
        std::FILE* out = file_ ? file_ : stdout;
        // fwrite may buffer: the flush is where a full disk shows.
        if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0 ||
            std::ferror(out))
            noteError();
    }
    void noteError() {
        const std::string why = std::strerror(errno);
        writeError_ = "cannot write " +
                      (path_.empty() ? std::string("the records to standard output") : partial()) +
                      ": " + why;
    }

    std::string path_;
    bool array_;
    std::FILE* file_ = nullptr;
    std::string writeError_;
    nlohmann::ordered_json all_ = nlohmann::ordered_json::array();
};

nlohmann::ordered_json captionRecord(const std::string& path, const char* modality,
                                     const StyledCaption& c, const CaptionTiming& timing) {
    return {{"path", path},
            {"modality", modality},
            {"style", c.style.id},
            {"prompt", c.style.prompt},
            {"caption", c.text},
            {"tokens", c.tokens},
            {"clip_s", c.score.clipS},
            {"cosine", c.score.cosine},
            {"logprob", c.logprob},
            {"ms", timing.totalMs()}};
}

// A sound, streamed from disk window by window: one record per window and style, each with its
// place on the timeline. True when at least one window was captioned.
bool captionSound(Captioner& captioner, const std::string& path, const std::string& cacheKey,
                  const std::vector<CaptionStyle>& styles, const CaptionOptions& options,
                  double windowSeconds, RecordSink& sink) {
    if (!captioner.hasAudio()) {
        sink.add(
            {{"path", path},
             {"error", "'" + path + "' is a sound, and the bundle '" + captioner.bundle().name +
                           "' has no audio encoder (its esper.json names no \"audio\")"}});
        return false;
    }
    AudioWindower windower(kAudioSampleRate, windowSeconds);
    int captioned = 0, silent = 0;
    std::string firstError;
    const auto onWindow = [&](const AudioWindow& w) {
        if (w.silent()) {
            ++silent;
            return true;
        }
        auto result = captioner.captionAudio(
            w.clip, cacheKey + "#" + std::to_string(windower.windows()), styles, options);
        if (!result) {
            if (firstError.empty()) firstError = result.error();
            return true;
        }
        for (const auto& c : result->captions) {
            auto record = captionRecord(path, "audio", c, result->timing);
            record["start"] = w.start;
            record["end"] = w.end;
            sink.add(record);
        }
        ++captioned;
        return true;
    };
    auto source = media::streamAudioFile(path, kAudioSampleRate, [&](const float* s, size_t n) {
        return windower.push(s, n, onWindow);
    });
    if (source) windower.finish(onWindow);
    if (!source)
        firstError = source.error();
    else if (captioned == 0 && firstError.empty())
        firstError = silent > 0 ? "'" + path + "' is silent (no sound above -80 dBFS)"
                                : "'" + path + "' holds no sound";
    if (!firstError.empty() && captioned == 0) sink.add({{"path", path}, {"error", firstError}});
    return captioned > 0;
}

} // namespace

int runCaption(int argc, char** argv) {
    Args args;
    std::vector<OptionSpec> specs = {{"style", true, true},   {"prompt", true, true},
                                     {"photo-prefix", false}, {"jsonl"},
                                     {"json", false},         {"window"}};
    for (auto v : {bundleFlagSpecs(), decodeFlagSpecs()})
        specs.insert(specs.end(), v.begin(), v.end());
    if (auto stop = args.parseVerb(argc, argv, "caption", kHelp.c_str(), specs)) return *stop;
    if (args.positional().empty())
        return report("caption", "give images or folders", 2, kHelp.c_str());
    const ImageInputs inputs = collectImages(args.positional(), /*includeAudio=*/true);
    const double window = args.real("window", 5.0, 0.5, 3600.0);
    if (!args.problem().empty()) return report("caption", args.problem(), 2);
    ensureBlasCoreType(argv); // models run from here on
    int code = 0;
    auto captioner = loadBundleFromFlags("caption", args, code);
    if (!captioner) return code;

    CaptionOptions options;
    options.decode = captioner->bundle().decoding;
    if (auto problem = applyDecodeFlags(args, options.decode); !problem.empty())
        return report("caption", problem, 2);
    options.photoPrefix = args.has("photo-prefix");
    std::vector<CaptionStyle> styles;
    for (const auto& s : args.all("style"))
        styles.push_back(styleFromName(s));
    for (const auto& p : args.all("prompt"))
        styles.push_back({p, p});
    if (styles.empty()) styles = captioner->bundleStyles();

    RecordSink sink(args.get("jsonl"), args.has("json"));
    if (!sink.ok()) return report("caption", "cannot write " + args.get("jsonl"), 2);
    size_t done = 0, failed = 0;
    for (const auto& [arg, why] : inputs.problems) {
        sink.add({{"path", arg}, {"error", why}});
        ++failed;
    }
    const bool tty = ::isatty(2);
    const auto start = std::chrono::steady_clock::now();
    const size_t total = inputs.files.size();
    for (size_t i = 0; i < total && !sink.failed(); ++i) {
        const std::string& path = inputs.files[i];
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string eta = i ? formatSeconds(elapsed / double(i) * double(total - i)) : "?";
        std::fprintf(stderr, "%s[%zu/%zu] %3.0f%%  eta %s  %s%s", tty ? "\r\033[K" : "", i + 1,
                     total, 100.0 * double(i) / double(std::max<size_t>(total, 1)), eta.c_str(),
                     std::filesystem::path(path).filename().c_str(), tty ? "" : "\n");
        std::error_code ec;
        const auto stamp = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
        const std::string cacheKey = path + "@" + std::to_string(stamp);
        if (media::mediaKindOfFile(path) == media::MediaKind::Audio) {
            if (captionSound(*captioner, path, cacheKey, styles, options, window, sink))
                ++done;
            else
                ++failed;
            continue;
        }
        auto image = media::decodeImageFile(path);
        if (!image) {
            sink.add({{"path", path}, {"error", image.error()}});
            ++failed;
            continue;
        }
        auto result = captioner->caption(image.value(), cacheKey, styles, options);
        if (!result) {
            sink.add({{"path", path}, {"error", result.error()}});
            ++failed;
            continue;
        }
        for (const auto& c : result->captions)
            sink.add(captionRecord(path, "image", c, result->timing));
        ++done;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The summary only once the records are safely written: it must not claim what was lost.
    if (auto ok = sink.finish(); !ok) {
        std::fprintf(stderr, "%s", tty ? "\r\033[K" : "");
        return report("caption", ok.error(), 1);
    }
    std::fprintf(stderr, "%s%zu file(s) captioned, %zu failed, in %s\n", tty ? "\r\033[K" : "",
                 done, failed, formatSeconds(seconds).c_str());
    return done > 0 ? 0 : 1;
}

} // namespace esper::cli
