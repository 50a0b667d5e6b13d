# Python's own Hugging Face clients against Pricer's hub server: huggingface_hub reads repositories, refs, commits and
# files at revisions and uploads a folder (one file through Git LFS); transformers and PEFT load a base model and a
# LoRA adapter that Pricer trained, at a checkpoint tag, straight from the server; and Pricer's engine, run on the
# very folders Python downloaded, gives the same logits. Run by hf-python-proof.sh, which starts the server and sets
# HF_ENDPOINT, HF_TOKEN and PRICER (the command that runs Pricer's CLI). Exits 1 if any check fails.
# Usage: python3 hf_python_proof.py WORK_DIR BASE_REPO ADAPTER_REPO
import hashlib, os, shlex, subprocess, sys

import torch
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

work, base_repo, adapter_repo = sys.argv[1:4]
endpoint = os.environ["HF_ENDPOINT"]
pricer = shlex.split(os.environ["PRICER"])
api = HfApi()
failed = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failed.append(what)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# Reading: the repository, its refs and commits, the files of a tag.
info = api.model_info(base_repo)
names = sorted(s.rfilename for s in info.siblings)
check({"config.json", "model.safetensors", "tokenizer.json"} <= set(names), f"model_info({base_repo}) lists {names}")
refs = api.list_repo_refs(adapter_repo)
tags = sorted(t.name for t in refs.tags)
steps = sorted((t for t in tags if t.startswith("step-")), key=lambda t: int(t.split("-")[1]))
check([b.name for b in refs.branches] == ["main"] and len(steps) >= 2, f"list_repo_refs({adapter_repo}): branches main, tags {tags}")
commits = api.list_repo_commits(adapter_repo)
check(len(commits) >= len(steps), f"list_repo_commits({adapter_repo}): {[c.title for c in commits]}")
first, last = steps[0], steps[-1]
files = api.list_repo_files(adapter_repo, revision=first)
check("adapter_model.safetensors" in files and "adapter_config.json" in files, f"list_repo_files at {first}: {files}")

# Downloading: a snapshot per tag, the same bytes as Pricer's own client downloads.
base_dir = snapshot_download(base_repo)
early, late = snapshot_download(adapter_repo, revision=first), snapshot_download(adapter_repo, revision=last)
weights = "adapter_model.safetensors"
check(sha256(os.path.join(early, weights)) != sha256(os.path.join(late, weights)), f"{first} and {last} hold different adapters")
ours = os.path.join(work, "pricer-" + weights)
subprocess.run(pricer + ["hub", "download", f"{adapter_repo}@{first}", weights, "-o", ours, "--url", endpoint], check=True,
               stdout=subprocess.DEVNULL)
check(sha256(ours) == sha256(os.path.join(early, weights)), f"hf_hub snapshot of {first} has the bytes `pricer hub download` gets")
tagged = next(t.target_commit for t in refs.tags if t.name == first)
one = hf_hub_download(adapter_repo, weights, revision=tagged)
check(sha256(one) == sha256(os.path.join(early, weights)), f"hf_hub_download at {first}'s full sha {tagged[:7]}… is the same file")

# transformers and PEFT load the base and the adapter at the last tag from the server, and match Pricer's engine.
model = AutoModelForCausalLM.from_pretrained(base_repo, dtype=torch.float32)
tuned = PeftModel.from_pretrained(model, adapter_repo, revision=last).eval()
tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(base_dir, "tokenizer.json"))
prompt = "How much does this cost to the nearest dollar?\n\nOak desk, two drawers, 120 cm\n\nPrice is $"
ids = torch.tensor([tokenizer(prompt)["input_ids"]], dtype=torch.int64)
with torch.no_grad():
    theirs = tuned(input_ids=ids).logits[0].float()
inputs, output = os.path.join(work, "inputs.safetensors"), os.path.join(work, "ours.safetensors")
save_file({"input_ids": ids}, inputs)
subprocess.run(pricer + ["forward", "--model", base_dir, "--adapter", late, "--inputs", inputs, "--output", output, "--device", "cpu"],
               check=True, stdout=subprocess.DEVNULL)
mine = load_file(output)["logits"][0].float()
diff = (mine - theirs).abs().max().item()
check(diff < 1e-3, f"PEFT on {base_repo} + {adapter_repo}@{last} against Pricer's engine on the downloaded folders: "
                   f"{ids.shape[1]} tokens, max logit difference {diff:.2e}")
check(mine[-1].argmax().item() == theirs[-1].argmax().item(), "the same next token after 'Price is $'")

# Writing: a repository, a folder with a file large enough for Git LFS, then a second commit; bytes back at the first.
repo = os.environ.get("PROOF_REPO", "py/proof")
api.create_repo(repo, exist_ok=False)
folder = os.path.join(work, "upload")
os.makedirs(folder)
with open(os.path.join(folder, "README.md"), "w") as f:
    f.write("uploaded by huggingface_hub\n")
with open(os.path.join(folder, "big.bin"), "wb") as f:
    f.write(os.urandom(12 * 1024 * 1024))
first_commit = api.upload_folder(repo_id=repo, folder_path=folder, commit_message="first upload")
api.upload_file(path_or_fileobj=b"changed\n", path_in_repo="README.md", repo_id=repo, commit_message="second")
history = api.list_repo_commits(repo)
check([c.title for c in history][:2] == ["second", "first upload"], f"list_repo_commits({repo}): {[c.title for c in history]}")
back = hf_hub_download(repo, "big.bin", revision=first_commit.oid)
check(sha256(back) == sha256(os.path.join(folder, "big.bin")), "12 MB file uploaded through LFS comes back byte for byte")
readme = hf_hub_download(repo, "README.md", revision=first_commit.oid)
check(open(readme).read() == "uploaded by huggingface_hub\n", "README.md at the first commit is the first version")
log = subprocess.run(pricer + ["hub", "log", repo, "--url", endpoint], check=True, capture_output=True, text=True).stdout
check("first upload" in log and "second" in log, "`pricer hub log` shows both commits")

print(f"{len(failed)} of the checks failed" if failed else "all checks passed")
sys.exit(1 if failed else 0)
