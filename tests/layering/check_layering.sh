#!/usr/bin/env bash
# The layering the build promises, checked on the compiled objects (docs/development.md):
#   esper_base    uses nothing from LibTorch, Qt or OpenCV, and nothing from the engine;
#   esper_media   uses only the base (and OpenCV);
#   esper_media_audio (sound files through Qt Multimedia) uses only the base and esper_media;
#   esper_hub     (the Hugging Face hub client, Qt Network) uses only the base, never LibTorch;
#   esper_ui      (the widgets) uses the base, the media library, the hub client and the engine
#                 worker, never the engine itself or LibTorch;
#   esper_engine  uses no Qt and no OpenCV.
# usage: check_layering.sh NM BASE.a ENGINE.a MEDIA.a WORKER.a UI.a MEDIA_AUDIO.a HUB.a
set -u
nm_tool=$1 base=$2 engine=$3 media=$4 worker=$5 ui=$6 audio=$7 hub=$8
failures=0

defined() { for lib in "$@"; do "$nm_tool" -C --defined-only "$lib" 2>/dev/null; done |
    awk 'NF >= 3 { $1 = ""; $2 = ""; sub(/^  /, ""); print }' | sort -u; }
undefined() { "$nm_tool" -C --undefined-only "$1" 2>/dev/null | awk '$1 == "U" { $1 = ""; sub(/^ /, ""); print }' | sort -u; }

# Symbols of namespace esper that LIB uses but none of ALLOWED... defines.
check_closed() {
    local what=$1 lib=$2
    shift 2
    local missing
    missing=$(comm -23 <(undefined "$lib" | grep 'esper::') <(defined "$lib" "$@"))
    if [ -n "$missing" ]; then
        echo "LAYERING: $what uses what it may not link against:"
        echo "$missing" | head -n 10 | sed 's/^/  /'
        failures=$((failures + 1))
    fi
}

# Symbols matching PATTERN that LIB must not use.
check_free_of() {
    local what=$1 lib=$2 pattern=$3 label=$4
    local found
    found=$(undefined "$lib" | grep -E "$pattern" | head -n 5)
    if [ -n "$found" ]; then
        echo "LAYERING: $what uses $label:"
        echo "$found" | sed 's/^/  /'
        failures=$((failures + 1))
    fi
}

torch='(^| |<|\()(at|c10|torch)::'
qt='(^| )(Q[A-Z][A-Za-z]+|Qt)::|(^| )q[A-Z][a-zA-Z]+\('
opencv='(^| )cv::'

check_free_of "the base (esper_base)" "$base" "$torch" "LibTorch"
check_free_of "the base (esper_base)" "$base" "$qt" "Qt"
check_free_of "the base (esper_base)" "$base" "$opencv" "OpenCV"
check_closed "the base (esper_base)" "$base"
check_free_of "the engine (esper_engine)" "$engine" "$qt" "Qt"
check_free_of "the engine (esper_engine)" "$engine" "$opencv" "OpenCV"
check_free_of "the media library (esper_media)" "$media" "$torch" "LibTorch"
check_closed "the media library (esper_media)" "$media" "$base"
check_free_of "the sound decoder (esper_media_audio)" "$audio" "$torch" "LibTorch"
check_closed "the sound decoder (esper_media_audio)" "$audio" "$base" "$media"
check_free_of "the hub client (esper_hub)" "$hub" "$torch" "LibTorch"
check_closed "the hub client (esper_hub)" "$hub" "$base"
check_free_of "the widgets (esper_ui)" "$ui" "$torch" "LibTorch"
check_closed "the widgets (esper_ui)" "$ui" "$base" "$media" "$audio" "$worker" "$hub"

if [ "$failures" -gt 0 ]; then
    echo "$failures layering rule(s) broken"
    exit 1
fi
echo "layering holds: base <- engine <- worker <- widgets; base <- media, hub <- widgets"
