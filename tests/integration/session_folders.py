"""Where llm-quantize writes besides its output -- checkpoints and the cache of
automatically computed imatrices -- pointed into the test session's temporary
folder, so that no run touches the working directory or the user's cache."""
import os


def isolate_state_folders(tmp_path_factory):
    os.environ["LLM_QUANTIZE_CHECKPOINT_DIR"] = str(tmp_path_factory.mktemp("checkpoints"))
    os.environ["LLM_QUANTIZE_IMATRIX_CACHE"] = str(tmp_path_factory.mktemp("imatrix-cache"))
