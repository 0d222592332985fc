#include "args.h"
#include "verbs.h"

#include "audio/audio_windows.h"
#include "audio_decoder.h"
#include "blas_tuning.h"
#include "bundle_flags.h"
#include "caption_shards.h"
#include "decode_flags.h"
#include "image_decoder.h"
#include "image_inputs.h"
#include "media_kind.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "world_flags.h"

#include "distributed/rendezvous.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
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
    "Several workers (--world-size N, each with its --rank, or `esper launch --workers N --`)\n"
    "share the inputs out: each appends to FILE.part-R-of-N, worker 0 merges the parts into\n"
    "--jsonl FILE in input order. A worker that stops is reported with the items it did not\n"
    "finish; the same command run again captions only those.\n" +
    kWorldFlagsHelp +
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
    // One worker of several: its records go to its part of `path` (caption_shards.h).
    explicit RecordSink(std::unique_ptr<PartWriter> part) : array_(false), part_(std::move(part)) {}
    ~RecordSink() {
        if (file_) std::fclose(file_);
    }
    bool ok() const { return part_ ? part_->ok() : path_.empty() || file_; }
    // An input's records are all written (a part marks it finished).
    void finishItem(const std::string& input) {
        if (part_ && !failed())
            if (auto ok = part_->finishItem(input); !ok) writeError_ = ok.error();
    }
    // A write failed: stop captioning, nothing more can be kept.
    bool failed() const { return !writeError_.empty(); }
    void add(const nlohmann::ordered_json& record) {
        if (part_) {
            if (auto ok = part_->add(record); !ok && !failed()) writeError_ = ok.error();
            return;
        }
        if (array_) {
            all_.push_back(record);
            return;
        }
        write(dumpJson(record) + "\n");
    }
    Result<void> finish() {
        if (part_) return failed() ? fail(writeError_) : Result<void>{};
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
    std::unique_ptr<PartWriter> part_;
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

// After this worker's share: once every worker is done, worker 0 merges the parts into OUT.
// A worker that stopped leaves its unfinished items listed, for the same command to finish.
// Without a rendezvous this is a single run finishing what an earlier one left.
int finishShards(Rendezvous* rendezvous, const std::string& out,
                 const std::vector<std::string>& files,
                 const std::vector<nlohmann::ordered_json>& problems) {
    const int rank = rendezvous ? rendezvous->world().rank : 0;
    const int workers = rendezvous ? rendezvous->world().size : 1;
    auto all = rendezvous ? rendezvous->barrier("captioned") : Result<void>{};
    if (!all) {
        const auto left = unfinishedItems(out, files);
        std::string names;
        for (size_t i = 0; i < left.size() && i < 10; ++i)
            names += (i ? ", " : "") + files[left[i]];
        if (left.size() > 10) names += ", ...";
        return report("caption",
                      all.error() + "; " + std::to_string(left.size()) +
                          " input(s) not captioned yet" + (left.empty() ? "" : " (" + names + ")") +
                          ": run the same command again to caption only those",
                      1);
    }
    int code = 0;
    if (rank == 0) {
        auto merged = mergeParts(out, files, problems);
        if (!merged) {
            code = report("caption", merged.error(), 1);
        } else {
            std::fprintf(stderr, "merged %zu input(s) from %d worker(s) into %s\n", merged.value(),
                         workers, out.c_str());
        }
    }
    if (rendezvous) rendezvous->leave();
    return code;
}

// One input, image or sound, in every style; false when it could not be captioned (its error
// record written instead).
bool captionOne(Captioner& captioner, const std::string& path, const std::string& cacheKey,
                const std::vector<CaptionStyle>& styles, const CaptionOptions& options,
                double window, RecordSink& sink) {
    if (media::mediaKindOfFile(path) == media::MediaKind::Audio)
        return captionSound(captioner, path, cacheKey, styles, options, window, sink);
    auto image = media::decodeImageFile(path);
    if (!image) {
        sink.add({{"path", path}, {"error", image.error()}});
        return false;
    }
    auto result = captioner.caption(image.value(), cacheKey, styles, options);
    if (!result) {
        sink.add({{"path", path}, {"error", result.error()}});
        return false;
    }
    for (const auto& c : result->captions)
        sink.add(captionRecord(path, "image", c, result->timing));
    return true;
}

} // namespace

int runCaption(int argc, char** argv) {
    Args args;
    std::vector<OptionSpec> specs = {{"style", true, true},   {"prompt", true, true},
                                     {"photo-prefix", false}, {"jsonl"},
                                     {"json", false},         {"window"}};
    for (auto v : {bundleFlagSpecs(), decodeFlagSpecs(), worldFlagSpecs()})
        specs.insert(specs.end(), v.begin(), v.end());
    if (auto stop = args.parseVerb(argc, argv, "caption", kHelp.c_str(), specs)) return *stop;
    if (args.positional().empty())
        return report("caption", "give images or folders", 2, kHelp.c_str());
    const ImageInputs inputs = collectImages(args.positional(), /*includeAudio=*/true);
    const double window = args.real("window", 5.0, 0.5, 3600.0);
    if (!args.problem().empty()) return report("caption", args.problem(), 2);
    auto world = worldFromFlags(args);
    if (!world) return report("caption", world.error(), 2);
    // Models run from here on; this may restart the process, so it comes before the
    // rendezvous (a restarted worker 0 would take the store down with it).
    ensureBlasCoreType(argv);
    const std::string out = args.get("jsonl");
    std::unique_ptr<Rendezvous> rendezvous;
    if (world->distributed()) {
        if (out.empty() || args.has("json"))
            return report("caption", "several workers write their records to --jsonl FILE", 2);
        // The same inputs in every worker, or they would share out different lists.
        std::string list;
        for (const auto& f : inputs.files)
            list += f + "\n";
        auto joined = Rendezvous::join(
            world.value(), "esper caption of " + std::to_string(inputs.files.size()) + " inputs #" +
                               std::to_string(std::hash<std::string>{}(list)));
        if (!joined) return report("caption", joined.error(), 1);
        rendezvous = std::move(joined.value());
    }
    int code = 0;
    auto captioner = loadBundleFromFlags("caption", args, code, "", &world.value());
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

    // This worker's inputs: all of them, or its share of those no earlier run finished (read by
    // every worker before any writes).
    std::vector<size_t> order(inputs.files.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::vector<nlohmann::ordered_json> problems;
    for (const auto& [arg, why] : inputs.problems)
        problems.push_back({{"path", arg}, {"error", why}});
    std::unique_ptr<RecordSink> sinkOwner;
    // Parts left by a run that stopped: this run (of any number of workers) finishes them.
    const bool sharded = rendezvous || (!out.empty() && !args.has("json") && hasParts(out));
    if (sharded) {
        const auto left = unfinishedItems(out, inputs.files);
        order = shareOf(left, world->rank, world->size);
        if (rendezvous)
            if (auto ok = rendezvous->barrier("planned"); !ok)
                return report("caption", ok.error(), 1);
        std::fprintf(stderr, "worker %d of %d: %zu of the %zu inputs left (of %zu)\n", world->rank,
                     world->size, order.size(), left.size(), inputs.files.size());
        sinkOwner = std::make_unique<RecordSink>(
            std::make_unique<PartWriter>(out, world->rank, world->size));
    } else {
        sinkOwner = std::make_unique<RecordSink>(out, args.has("json"));
    }
    RecordSink& sink = *sinkOwner;
    if (!sink.ok()) return report("caption", "cannot write " + out, 2);
    size_t done = 0, failed = 0;
    if (!sharded)
        for (const auto& p : problems) {
            sink.add(p);
            ++failed;
        }
    const bool tty = ::isatty(2);
    const auto start = std::chrono::steady_clock::now();
    const size_t total = order.size();
    for (size_t i = 0; i < total && !sink.failed(); ++i) {
        const std::string& path = inputs.files[order[i]];
        if (rendezvous) rendezvous->beat();
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string eta = i ? formatSeconds(elapsed / double(i) * double(total - i)) : "?";
        std::fprintf(stderr, "%s[%zu/%zu] %3.0f%%  eta %s  %s%s", tty ? "\r\033[K" : "", i + 1,
                     total, 100.0 * double(i) / double(std::max<size_t>(total, 1)), eta.c_str(),
                     std::filesystem::path(path).filename().c_str(), tty ? "" : "\n");
        std::error_code ec;
        const auto stamp = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
        const std::string cacheKey = path + "@" + std::to_string(stamp);
        const bool ok = captionOne(*captioner, path, cacheKey, styles, options, window, sink);
        ++(ok ? done : failed);
        sink.finishItem(path);
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
    if (sharded) return finishShards(rendezvous.get(), out, inputs.files, problems);
    return done > 0 ? 0 : 1;
}

} // namespace esper::cli
