"""Run in the torch venv (it has the `tokenizers` package): build or load HF
tokenizers and print their ids.

  hf_tokenizers_oracle.py encode TOKENIZER.json TEXTS.json OUT.json [--add-special]
  hf_tokenizers_oracle.py train KIND CORPUS.txt OUT_DIR [CHARSMAP.bin]
      KIND: wordpiece (BERT-style) or unigram (T5-style, with the charsmap)
"""
import base64
import json
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers


def encode(path, texts, out, add_special):
    tok = Tokenizer.from_file(path)
    ids = [tok.encode(t, add_special_tokens=add_special).ids for t in json.load(open(texts))]
    json.dump(ids, open(out, "w"))


def train(kind, corpus, out_dir, charsmap=None):
    lines = open(corpus, encoding="utf-8").read().splitlines()
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.train_from_iterator(lines, trainers.WordPieceTrainer(
            vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        tok.decoder = decoders.WordPiece()
        config = {"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]"}
    else:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.Sequence([
            normalizers.Precompiled(open(charsmap, "rb").read()), normalizers.Replace(Regex(" {2,}"), " ")])
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")])
        tok.train_from_iterator(lines, trainers.UnigramTrainer(
            vocab_size=600, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"))
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
        config = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    tok.save(f"{out_dir}/tokenizer.json")
    json.dump(config, open(f"{out_dir}/tokenizer_config.json", "w"))


if __name__ == "__main__":
    if sys.argv[1] == "encode":
        encode(sys.argv[2], sys.argv[3], sys.argv[4], "--add-special" in sys.argv)
    else:
        train(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
