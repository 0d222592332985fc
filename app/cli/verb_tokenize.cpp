#include "args.h"
#include "verbs.h"

#include "text/clip_tokenizer.h"
#include "text/gpt2_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"

#include <cstdio>
#include <functional>
#include <string>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper tokenize --kind gpt2|clip|sentencepiece --vocab PATH [--merges PATH] TEXT...\n\n"
    "Prints the ids of each TEXT as a JSON array, one per line, without start/end tokens.\n"
    "  --kind gpt2           --vocab vocab.json|encoder.json --merges merges.txt|vocab.bpe\n"
    "  --kind clip           --vocab bpe_simple_vocab_16e6.txt.gz, or vocab.json --merges "
    "merges.txt\n"
    "  --kind sentencepiece  --vocab tokenizer.model\n"
    "  --special             GPT-2: encode <|endoftext|> as its id rather than as text\n";
} // namespace

int runTokenize(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "tokenize", kHelp,
                                   {{"kind"}, {"vocab"}, {"merges"}, {"special", false}}))
        return *stop;
    if (!args.has("kind") || !args.has("vocab"))
        return report("tokenize", "--kind and --vocab are required", 2, kHelp);
    const std::string kind = args.get("kind"), vocab = args.get("vocab");
    std::function<std::vector<int>(const std::string&)> encode;
    std::unique_ptr<Gpt2Tokenizer> gpt2;
    std::unique_ptr<ClipTokenizer> clip;
    std::unique_ptr<SentencePieceTokenizer> spm;
    std::string loadError;
    if (kind == "gpt2") {
        if (!args.has("merges"))
            loadError = "--kind gpt2 needs --merges";
        else if (auto t = Gpt2Tokenizer::load(vocab, args.get("merges")))
            gpt2 = std::move(*t);
        else
            loadError = t.error();
        const bool special = args.has("special");
        encode = [&gpt2, special](const std::string& s) { return gpt2->encode(s, special); };
    } else if (kind == "clip") {
        auto t = args.has("merges") ? ClipTokenizer::loadHf(vocab, args.get("merges"))
                                    : ClipTokenizer::loadOpenAi(vocab);
        if (t)
            clip = std::move(*t);
        else
            loadError = t.error();
        encode = [&clip](const std::string& s) { return clip->encode(s); };
    } else if (kind == "sentencepiece") {
        if (auto t = SentencePieceTokenizer::load(vocab))
            spm = std::move(*t);
        else
            loadError = t.error();
        encode = [&spm](const std::string& s) { return spm->encode(s); };
    } else {
        loadError = "unknown --kind '" + kind + "' (gpt2, clip or sentencepiece)";
    }
    if (!loadError.empty()) return report("tokenize", loadError, 1);
    for (const auto& text : args.positional()) {
        const auto ids = encode(text);
        std::string line = "[";
        for (size_t i = 0; i < ids.size(); ++i)
            line += (i ? ", " : "") + std::to_string(ids[i]);
        std::printf("%s]\n", line.c_str());
    }
    return 0;
}

} // namespace esper::cli
