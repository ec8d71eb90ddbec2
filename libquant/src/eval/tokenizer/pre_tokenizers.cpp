#include "pre_tokenizers.hpp"

#include <initializer_list>
#include <map>

namespace libquant::eval {
namespace {

// Patterns shared by several families.
const char* const kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char* const kContractions = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const std::string kLlama3 = std::string(kContractions) +
                            "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                            "\\s+(?!\\S)|\\s+";
const std::string kQwen2 = std::string(kContractions) +
                           "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                           "\\s+(?!\\S)|\\s+";
const char* const kNewlines = "[^\\n]+|[\\n]+";
const char* const kPoro = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
const char* const kCasedWords =  // GPT-4o-style words without \p{Lu}/\p{Ll} (std::regex has no cases)
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+";
const char* const kCasedWords2 = "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*";

std::map<std::string, PreTokenizer, std::less<>> build() {
  std::map<std::string, PreTokenizer, std::less<>> m;
  auto add = [&](std::initializer_list<const char*> names, const PreTokenizer& p) {
    for (const char* n : names) m.emplace(n, p);
  };
  PreTokenizer p;

  add({"default", ""}, {{"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}});
  p = {{kLlama3}};
  add({"dbrx", "smaug-bpe", "chatglm-bpe"}, p);
  m["chatglm-bpe"].no_bos = true;
  p.ignore_merges = true;
  p.add_bos = true;
  add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"}, p);
  p = {{kLlama3}};
  p.ignore_merges = true;
  p.no_bos = true;
  add({"glm4", "glm5"}, p);
  add({"jais-2"}, {{std::string(kContractions) +
                    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                    "\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|"
                    "\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"}});
  add({"deepseek-llm"},
      {{"[\r\n]",
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-"
        "\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-"
        "\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-"
        "\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-"
        "\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-"
        "\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-"
        "\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-"
        "\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-"
        "\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-"
        "\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
        "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", "\\s+$",
        "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", "\\p{N}+"}});
  const PreTokenizer deepseek3{
      {"\\p{N}{1,3}", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
       "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
       "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}};
  add({"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, deepseek3);
  add({"spark2_5"},
      {{"\\p{N}{1,3}", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
        "?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
        "\\p{N}"}});
  p = {
      {"[\uAC00-\uD7A3\u3131-\u318E]+|[\uFF01\u2026\u201C\u201D\u2018\u2019\u2014\uFF1A\uFF1B\uFF0C\u3001-\u303F\uFE30-"
       "\uFE4F]+|[\u3105-\u312F]+|[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
       "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" +
           std::string(kContractions) +
           "?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" +
           kContractions + "?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}};
  p.ignore_merges = true;
  add({"youtu"}, p);
  add({"deepseek-coder"},
      {{"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", "\\p{N}"}});
  add({"falcon"}, {{"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}});
  add({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
      {{"\\p{N}", kGpt2}});
  add({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
       "modern-bert", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"},
      {{kGpt2}});
  p = {{kGpt2}};
  p.add_sep = true;
  add({"jina-v1-en", "jina-v2-code", "roberta-bpe"}, p);
  add({"stablelm2", "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "hunyuan", "solar-open", "grok-2"},
      {{kQwen2}});
  add({"qwen35"}, {{std::string(kContractions) +
                    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                    "\\s+(?!\\S)|\\s+"}});
  add({"poro-chat", "bloom", "gpt3-finnish"}, {{kPoro}});
  add({"viking"}, {{kPoro, "\\p{N}"}});
  p = {{std::string(kCasedWords) + kCasedWords2 +
        "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}};
  p.ignore_merges = true;
  p.add_bos = true;
  add({"tekken"}, p);
  p = {{"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
        "[\\p{P}!-/:-@\\[-`{-~]", kGpt2}};
  p.add_bos = true;
  add({"chameleon"}, p);
  add({"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"},
      {{std::string(kCasedWords) + kContractions + "?" + kCasedWords2 + kContractions +
        "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}});
  p = {{"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+" +
        std::string(kContractions) +
        "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*" + kContractions +
        "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}};
  p.ignore_merges = true;
  add({"granite-embed-multi-97m"}, p);
  add({"superbpe"}, {{"\\p{N}+", "(?=(\\d{3})+(?!\\d))"}});
  add({"bailingmoe", "bailingmoe2", "llada-moe"}, {{"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?"
                                                    "\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                                                    "\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}});
  add({"seed-coder"},
      {{std::string(kContractions) +
        "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|"
        "\\s+"}});
  add({"ufakzeka"},
      {{"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}});
  add({"laguna"}, {{kNewlines, kQwen2}});
  add({"exaone-moe"},
      {{std::string(kContractions) +
        "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|"
        "\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}});
  p = {{kNewlines}};
  p.byte_encode = false;
  p.escape_whitespaces = true;
  p.add_bos = true;  // llama.cpp forces BOS for Gemma 4
  add({"gemma4", "granite-embed-multi-311m"}, p);
  p.add_bos = false;
  add({"sarvam-moe"}, p);
  p = {{"\\p{N}{1,3}", std::string(kContractions) +
                           "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                           "\\s+(?!\\S)|\\s+"}};
  p.ignore_merges = true;
  add({"minicpm5"}, p);
  p = {{"\\S+"}};
  p.byte_encode = false;
  add({"whitespace"}, p);
  // kimi-k2, afmoe, tiny_aya and cohere2moe need llama.cpp's hand-written
  // splitters (\p{Han}, digit grouping): not implemented, refused by name.
  return m;
}

const std::map<std::string, PreTokenizer, std::less<>>& table() {
  static const auto t = build();
  return t;
}

}  // namespace

const PreTokenizer* find_pre_tokenizer(std::string_view name) {
  const auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

const char* pre_tokenizer_with_patterns(const std::vector<std::string>& patterns) {
  // The common names first, so that a plain GPT-2 split is called "gpt-2".
  for (const char* name : {"gpt-2", "llama-bpe", "qwen2", "smollm", "deepseek-llm", "deepseek-coder", "falcon"})
    if (const PreTokenizer* p = find_pre_tokenizer(name); p && p->patterns == patterns) return name;
  for (const auto& [name, p] : table())
    if (p.byte_encode && p.patterns == patterns && !name.empty()) return name.c_str();
  return nullptr;
}

}  // namespace libquant::eval
