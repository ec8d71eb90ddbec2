"""Split GGUF files for tests, as gguf-py writes them (what gguf-split and
convert_hf_to_gguf --split-max-tensors make): every shard with split.no /
split.count / split.tensors.count, the metadata in the first."""
import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter


def split_copy(src, out_dir, max_tensors):
    """`src` rewritten as gguf-py's split files (what gguf-split and convert_hf_to_gguf --split-max-tensors make)."""
    reader = GGUFReader(src)
    writer = GGUFWriter(out_dir / "m.gguf", arch=reader.fields["general.architecture"].contents(),
                        split_max_tensors=max_tensors)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if field.types[0] == GGUFValueType.ARRAY:
            writer.add_key_value(key, field.contents(), field.types[0], sub_type=field.types[-1])
        else:
            writer.add_key_value(key, field.contents(), field.types[0])
    for t in reader.tensors:
        writer.add_tensor(t.name, np.array(t.data), raw_shape=list(reversed([int(d) for d in t.shape])),
                          raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return sorted(out_dir.glob("m-*-of-*.gguf"))
