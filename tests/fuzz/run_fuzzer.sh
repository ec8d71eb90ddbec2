#!/usr/bin/env bash
# Runs one fuzz target on seeds taken from ../shared (copied to a scratch
# corpus, never into the repository): a bounded libFuzzer run under clang, a
# replay of the seeds otherwise.
set -euo pipefail
bin=$1 name=$2 shared=$3 compiler=$4
corpus=$(mktemp -d)
scratch=$(mktemp -d)  # files the targets write (fuzz_forward, fuzz_quantize_tensor)
trap 'rm -rf "$corpus" "$scratch"' EXIT
export TMPDIR=$scratch
export LIBQUANT_FUZZ_VOCAB_DIR=$shared/vocab
case "$name" in
  fuzz_safetensors) cp "$shared/models/stories260K/model.safetensors" "$corpus/seed1" ;;
  fuzz_gguf)
    cp "$shared/golden/stories260K/quantized/stories260K-Q4_0.gguf" "$corpus/seed1"
    head -c 4096 "$shared/models/stories260K.gguf" > "$corpus/seed2" ;;
  fuzz_hf_config)  # a Llama, a Mamba-2 and a Qwen3.5 (no layer_types: the interval decides)
    cp "$shared/models/stories260K/config.json" "$corpus/seed1"
    printf '%s' '{"architectures": ["Mamba2ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 32,
 "expand": 2, "head_dim": 32, "num_heads": 4, "n_groups": 2, "state_size": 8, "conv_kernel": 4,
 "time_step_limit": [0.0, {"__float__": "Infinity"}]}' > "$corpus/seed2"
    printf '%s' '{"architectures": ["Qwen3_5ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
 "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 32,
 "linear_conv_kernel_dim": 4, "linear_key_head_dim": 16, "linear_value_head_dim": 16, "linear_num_key_heads": 2,
 "linear_num_value_heads": 4, "full_attention_interval": 4, "rope_parameters": {"rope_theta": 10000.0,
 "partial_rotary_factor": 0.25, "mrope_section": [3, 3, 2]}}' > "$corpus/seed3" ;;
  fuzz_logits_file)  # a valid minimal file: ctx 16, vocab 2, 1 chunk -> 7 rows of 6 words
    python3 -c "import struct,sys; sys.stdout.buffer.write(b'_logits_'+struct.pack('<3i',16,2,1)+bytes(64)+bytes(7*6*2))" > "$corpus/seed1" ;;
  fuzz_imatrix) cp "$shared/golden/synthetic-a/imatrix.dat" "$corpus/seed1" ;;
  fuzz_super_weights)  # the documented example: one super weight, one mask
    printf '%s' '{"format": "libquant.super_weights", "version": 1, "model": "m.gguf", "coverage": 0.0001,
 "super_weights": [{"tensor": "blk.1.ffn_down.weight", "layer": 1, "row": 5, "col": 3, "value": -4.4,
 "activation": 263.3, "input_activation": 36.6, "share": 0.61, "kind": "activation_spike"}],
 "total_protected": 2, "masks": {"blk.0.attn_q.weight": {"shape": [4, 8], "indices": [1, 17]}}}' > "$corpus/seed1" ;;
  fuzz_gptq_awq_config)
    printf '{"bits": 4, "group_size": 128, "desc_act": false, "sym": true, "quant_method": "gptq", "checkpoint_format": "gptq"}' > "$corpus/seed1"
    printf '{"bits": 4, "group_size": 128, "quant_method": "awq", "version": "gemm", "zero_point": true}' > "$corpus/seed2" ;;
  fuzz_hub_listing)  # the hub's model answer, and a hub reference
    printf '%s' '{"id": "org/m", "sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [
 {"rfilename": "config.json", "size": 656, "blobId": "0123456789abcdef0123456789abcdef01234567"},
 {"rfilename": "model.safetensors", "size": 1044992, "blobId": "1111111111111111111111111111111111111111",
 "lfs": {"sha256": "407a7c581bdd66972383ce9ad24857713fb98786d06ea564a2fe9b34ebe77dfd", "size": 1044992}}]}' > "$corpus/seed1"
    printf 'org/name@refs/pr/1:Q4_K_M' > "$corpus/seed2" ;;
  fuzz_compressed_tensors)
    printf '%s' '{"config_groups": {"group_0": {"format": null, "input_activations": {"dynamic": true, "group_size": null,
 "num_bits": 8, "strategy": "token", "symmetric": true, "type": "int"}, "output_activations": null, "targets": ["Linear",
 "re:.*down_proj"], "weights": {"dynamic": false, "group_size": null, "num_bits": 8, "strategy": "channel",
 "symmetric": true, "type": "int"}}}, "format": "int-quantized", "ignore": ["lm_head"], "quant_method":
 "compressed-tensors", "quantization_status": "compressed", "version": "0.20.1"}' > "$corpus/seed1" ;;
  fuzz_littlebit)  # an index with one of each kind of entry (the target wraps it in a checksummed file)
    printf '%s' '{"format": "littlebit", "format_version": 1, "source_model": "m", "architecture": "LlamaForCausalLM",
 "target_bpw": 0.5, "residual": true, "refinement": "none", "created_by": "t", "original_size_bytes": 100, "tensors": [
 {"name": "__metadata__", "kind": "metadata", "shape": [24], "offset": 64, "size": 24, "crc32": 0},
 {"name": "blk.0.attn_q.weight", "kind": "factors", "shape": [8, 8], "rank": 8, "paths": 1, "original_bits": 16,
 "offset": 128, "size": 384, "crc32": 0},
 {"name": "blk.0.attn_norm.weight", "kind": "dense", "shape": [8], "dtype": "F32", "original_bits": 32,
 "offset": 512, "size": 32, "crc32": 0}]}' > "$corpus/seed1" ;;
  fuzz_smoothquant_state)  # calibration statistics and a one-group plan, as the job writes them
    python3 - "$corpus/seed1" <<'PY'
import sys
import numpy as np
from safetensors.numpy import save_file
save_file({"max:blk.0.attn_q.weight": np.arange(1, 9, dtype=np.float32),
           "samples:blk.0.attn_q.weight": np.ones((3, 8), dtype=np.float32),
           "scales:0": np.full(8, 0.5, dtype=np.float32)},
          sys.argv[1], metadata={"sequences": "8", "non_finite": "", "rows_seen:blk.0.attn_q.weight": "6",
                                 "plan.groups": "1", "plan.0.norm": "blk.0.attn_norm.weight", "plan.0.alpha": "0.5",
                                 "plan.0.error": "-1", "plan.0.error_unsmoothed": "-1", "plan.candidates": "1",
                                 "candidate.0.name": "per-group search", "candidate.0.kl": "0.25"})
PY
    ;;
  fuzz_dqprofile)
    printf '%s' '{"format": "libquant.dqprofile", "version": 1, "profile_name": "p", "default_type": "Q4_K",
 "target_bpw": 4.5, "candidates": ["Q4_K", "Q6_K"], "rules": [{"class": "attn_v", "layers": [0, -1], "type": "Q6_K"},
 {"tensor": "ffn_(up|gate)", "type": "Q3_K"}]}' > "$corpus/seed1" ;;
  fuzz_calibration_json)
    printf '["Once upon a time", {"text": "there was a cat"}]' > "$corpus/seed1"
    printf '{"text": "a"}
{"text": "b"}
' > "$corpus/seed2" ;;
  fuzz_tokenizer_*)  # llama.cpp's tokenizer test texts, and invalid UTF-8
    i=0
    for f in "$shared"/vocab/ggml-vocab-{gpt-2,llama-spm,bert-bge}.gguf.inp; do
      i=$((i + 1)); cp "$f" "$corpus/seed$i"
    done
    printf '\x00\xff\xc3\x28 \xe2\x82 \xf0\x9f\xa6\x99 <s> </s> [CLS]\xed\xa0\x80' > "$corpus/seed0"
    # ugm: a character map from the input (0x40 flag, 4 x byte 1 bytes of map, then text)
    printf '\x40\x03\x04\x00\x00\x00\x00\x04\x00\x00\x41\x00\x42\x00the cat' > "$corpus/seed9" ;;
  # Structured targets build their inputs from any bytes; a few seeds of each size.
  fuzz_forward|fuzz_quantize_tensor|fuzz_littlebit_apply)
    for i in 1 2 3 4; do
      dd if="$shared/models/stories260K.gguf" of="$corpus/seed$i" iflag=skip_bytes,count_bytes skip=$((i * 4099)) \
         count=$((i * 64)) status=none
    done ;;
esac
if [ "$compiler" = "Clang" ]; then
  max_len=65536
  case "$name" in fuzz_tokenizer_*) max_len=4096 ;; esac  # std::regex under ASan is slow on long texts
  "$bin" -runs="${FUZZ_RUNS:-20000}" -max_len=$max_len -seed=1 "$corpus"
else
  "$bin" "$corpus"
fi
