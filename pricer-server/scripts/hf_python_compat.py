# Drives Python's huggingface_hub, and the datasets library when it is installed, against a Pricer server: the Hub API
# subset the Python clients use, with the calls for repositories, refs, visibility, file removal and datasets. Each
# check asserts; the last line printed is a JSON summary. This machine has no PyPI, so it runs where Python's Hugging
# Face libraries are (the lent GPU machine): pricer-server/scripts/hf-python-compat.sh starts the server and runs it.
# Usage: HF_ENDPOINT=http://127.0.0.1:PORT HF_TOKEN=... python3 hf_python_compat.py WORKDIR [DATASET_REPO]
import json
import os
import pathlib
import sys

import huggingface_hub
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

endpoint, token = os.environ["HF_ENDPOINT"], os.environ["HF_TOKEN"]
work = pathlib.Path(sys.argv[1])
dataset_repo = sys.argv[2] if len(sys.argv) > 2 else None
api, anonymous = HfApi(endpoint=endpoint, token=token), HfApi(endpoint=endpoint, token=False)
summary = {"huggingface_hub": huggingface_hub.__version__}

repo = "shop/compat"
api.create_repo(repo, exist_ok=True)
folder = work / "upload"
folder.mkdir(parents=True, exist_ok=True)
(folder / "a.txt").write_text("one")
(folder / "b.txt").write_text("two")
first = api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message="first").oid
api.create_tag(repo, tag="v1", revision=first)
(folder / "a.txt").write_text("one, again")
api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message="second")
api.create_branch(repo, branch="exp", revision=first)
refs = api.list_repo_refs(repo)
assert sorted(b.name for b in refs.branches) == ["exp", "main"], refs
assert [t.name for t in refs.tags] == ["v1"], refs
assert api.list_repo_commits(repo, revision="exp")[0].commit_id == first
api.delete_branch(repo, branch="exp")
api.delete_tag(repo, tag="v1")
refs = api.list_repo_refs(repo)
assert [b.name for b in refs.branches] == ["main"] and not refs.tags, refs
summary["refs"] = "create_branch, create_tag, list_repo_refs, delete_branch, delete_tag"

api.update_repo_settings(repo, private=True)
assert api.repo_info(repo).private
try:
    anonymous.repo_info(repo)
    raise AssertionError("a private repository showed to an anonymous caller")
except RepositoryNotFoundError:
    pass
api.update_repo_settings(repo, private=False)
assert not anonymous.repo_info(repo).private
summary["visibility"] = "update_repo_settings(private=True/False)"

api.delete_file("b.txt", repo_id=repo, commit_message="drop b")
assert api.list_repo_files(repo) == ["a.txt"], api.list_repo_files(repo)
summary["delete_file"] = "ok"

api.delete_repo(repo)
assert not api.repo_exists(repo)
api.delete_repo(repo, missing_ok=True)
summary["delete_repo"] = "ok, and missing_ok"

# More of the API that scripts call, each check on its own so that one gap does not hide the next.
more = "shop/more"
api.create_repo(more, private=True)
api.upload_file(path_or_fileobj=b"hello", path_in_repo="x/y.txt", repo_id=more, commit_message="one")
checks = {
    "file_exists": lambda: api.file_exists(more, "x/y.txt") and not api.file_exists(more, "nope.txt"),
    "revision_exists": lambda: api.revision_exists(more, "main") and not api.revision_exists(more, "nope"),
    "get_paths_info": lambda: sorted(i.path for i in api.get_paths_info(more, ["x/y.txt", "x"])) == ["x", "x/y.txt"],
    "hf_hub_download": lambda: pathlib.Path(huggingface_hub.hf_hub_download(more, "x/y.txt", endpoint=endpoint, token=token,
                                                                          cache_dir=str(work / "hub-cache"))).read_text() == "hello",
    "list_models(author)": lambda: [m.id for m in api.list_models(author="shop")] == [more],
    "list_repo_commits": lambda: api.list_repo_commits(more)[0].title == "one",
    "model_info(files_metadata)": lambda: [(s.rfilename, s.size) for s in api.model_info(more, files_metadata=True).siblings] == [("x/y.txt", 5)],
    "private to others": lambda: not anonymous.repo_exists(more),
}
failed = {}
for name, check in checks.items():
    try:
        if not check():
            failed[name] = "wrong answer"
    except Exception as e:  # each gap is reported, not fatal
        failed[name] = f"{type(e).__name__}: {e}"[:300]
api.delete_repo(more)
summary["more"] = {"passed": [n for n in checks if n not in failed], "failed": failed}

if dataset_repo:
    summary["list_datasets(author)"] = [d.id for d in api.list_datasets(author="shop")]
    snapshot = pathlib.Path(huggingface_hub.snapshot_download(dataset_repo, repo_type="dataset", endpoint=endpoint, token=token,
                                                              cache_dir=str(work / "hub-cache")))
    files = sorted(str(p.relative_to(snapshot)) for p in snapshot.rglob("*") if p.is_file())
    assert files == ["README.md", "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"], files
    summary["dataset_snapshot"] = files
    # The datasets library reads a repository through HfFileSystem (fsspec): listings, globs, file info and reads.
    fs = huggingface_hub.HfFileSystem(endpoint=endpoint, token=token)
    root = f"datasets/{dataset_repo}"
    listed = sorted(fs.ls(f"{root}/data", detail=False))
    assert listed == [f"{root}/data/test-00000-of-00001.parquet", f"{root}/data/train-00000-of-00001.parquet"], listed
    assert fs.glob(f"{root}/data/train-*") == [f"{root}/data/train-00000-of-00001.parquet"]
    info = fs.info(f"{root}/data/train-00000-of-00001.parquet")
    assert info["type"] == "file" and info["size"] > 0, info
    with fs.open(f"{root}/data/train-00000-of-00001.parquet", "rb") as f:
        head = f.read(4)
        f.seek(-4, 2)
        tail = f.read(4)
    assert head == b"PAR1" and tail == b"PAR1", (head, tail)
    assert fs.exists(f"{root}/README.md") and not fs.exists(f"{root}/nothing.txt")
    summary["hf_file_system"] = "ls, glob, info, open with seek, exists"
    try:
        import datasets
    except ImportError:
        summary["datasets"] = "not installed"
    else:
        loaded = datasets.load_dataset(dataset_repo, cache_dir=str(work / "datasets-cache"))
        summary["datasets"] = {"version": datasets.__version__, "splits": {name: split.num_rows for name, split in loaded.items()},
                               "columns": loaded["train"].column_names}
        assert set(loaded.keys()) == {"train", "test"}, loaded
        assert "price" in loaded["train"].column_names and "text" in loaded["train"].column_names

print(json.dumps(summary))
if failed:
    sys.exit(1)
