#!/usr/bin/env bash
# Run the model-family tests on the models' REAL upstream remote-code files, kept outside this
# repository: fetch them at the pinned commits into a temporary directory and point the tests'
# GENEB_*_UPSTREAM variables at them. Needs network access to GitHub (raw files only, no weights).
#
#   scripts/check_upstream.sh            # with .venv (transformers 5)
#   PYTHON=.venv-tf4/bin/python scripts/check_upstream.sh   # with transformers 4.57
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
raw() { curl -fsSL "https://raw.githubusercontent.com/$1/$2/$3" -o "$4"; }

mkdir -p "$DIR/dnabert2" "$DIR/gena" "$DIR/mutbert" "$DIR/caduceus"
# DNABERT-2 hub files, GitHub copy of zhihan1996/DNABERT-2-117M (hub state)
for f in bert_layers.py bert_padding.py configuration_bert.py flash_attn_triton.py tokenizer.json; do
  raw ashal-ali/CS224N_DNABERT2 d064dece8a8b41d9fb8729fbe3435278786931f1 "$f" "$DIR/dnabert2/$f"
done
# GENA-LM t2t repositories' modeling_bert.py
raw AIRI-Institute/GENA_LM 8c441a46b483abbb5a992321cfa3ba8cd3526c43 src/gena_lm/modeling_bert.py "$DIR/gena/modeling_bert.py"
# MutBERT
raw ai4nucleome/mutBERT 82344d2314ef2820b11d1863b4e9784e0c9ef842 2-pretrain-code/modeling_mutbert.py "$DIR/mutbert/modeling_mutbert.py"

# Caduceus hub files = the authors' caduceus/*.py (run on the CPU mamba_ssm stand-in)
for f in configuration_caduceus.py modeling_caduceus.py modeling_rcps.py tokenization_caduceus.py; do
  raw kuleshov-group/caduceus 0060a6d8079b6a040fc55d505e15972a327b70a6 "caduceus/$f" "$DIR/caduceus/$f"
done

# The GENEB harness itself (run_GENEB.py, its example k-mer extractor and base class, the spec)
git -c advice.detachedHead=false clone -q https://github.com/chenkenbio/GENEB "$DIR/GENEB"
git -C "$DIR/GENEB" -c advice.detachedHead=false checkout -q 09d90dd8c4e80ff3cfed0d8df96884f241fbe4ed

GENEB_HARNESS_UPSTREAM="$DIR/GENEB" \
GENEB_DNABERT2_UPSTREAM="$DIR/dnabert2" GENEB_GENA_LM_UPSTREAM="$DIR/gena" GENEB_MUTBERT_UPSTREAM="$DIR/mutbert" \
GENEB_CADUCEUS_UPSTREAM="$DIR/caduceus" \
  "$PYTHON" -m pytest -p no:cacheprovider -q -k upstream \
  tests/test_family_dnabert2.py tests/test_family_gena_lm.py tests/test_family_mutbert.py \
  tests/test_family_caduceus.py tests/test_harness_extractor.py "$@"
