"""Run in the torch venv: llama.cpp's convert_hf_to_gguf.py (0.3.36, cached by
scripts/fetch-models.sh) on an HF checkpoint, to F32.

  converter_oracle.py CONVERTER_DIR HF_DIR OUT.gguf [OUTTYPE (f32, the default, or f16)] [converter flags...]

The converter reads Command-R's and OLMo 2's vocabularies as a BPE
tokenizer.json; our random checkpoints carry a SentencePiece model, so for
those families the vocabulary is read as SentencePiece (the tokenizer is not
what these comparisons are about; the tokenizer tests cover it). Nothing else
is changed.
"""
import sys
from pathlib import Path


def main():
    converter, hf_dir, out = sys.argv[1:4]
    outtype = sys.argv[4] if len(sys.argv) > 4 else "f32"
    flags = sys.argv[5:]
    sys.path.insert(0, converter)
    sys.argv = [str(Path(converter) / "convert_hf_to_gguf.py"), hf_dir, "--outtype", outtype, "--outfile", out, *flags]
    import convert_hf_to_gguf
    from conversion.base import TextModel
    from conversion.command_r import CommandR2Model
    for family in (TextModel, CommandR2Model):
        family.set_vocab = lambda self: self._set_vocab_sentencepiece()
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main()
