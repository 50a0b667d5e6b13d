// Drives the official @huggingface/hub client against a Pricer server and prints what it saw as JSON.
// Env: HUB_URL, HF_TOKEN, REPO, V1_DIR (a folder to upload), V2_DIR (changed files for a second commit), DOOMED (a
// repository made, branched and deleted again).
import { createRepo, uploadFiles, listFiles, listCommits, downloadFile, fileDownloadInfo, createBranch, deleteBranch, deleteRepo, repoExists } from "@huggingface/hub";
import { pathToFileURL } from "node:url";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";

const hubUrl = process.env.HUB_URL;
const accessToken = process.env.HF_TOKEN;
const repo = { type: "model", name: process.env.REPO };
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const created = await createRepo({ repo, accessToken, hubUrl });
const first = await uploadFiles({
  repo, accessToken, hubUrl, useXet: false,
  files: [pathToFileURL(process.env.V1_DIR + "/")],
  commitTitle: "step 100",
});
const second = await uploadFiles({
  repo, accessToken, hubUrl, useXet: false,
  files: [pathToFileURL(process.env.V2_DIR + "/")],
  commitTitle: "step 200",
});

const files = [];
for await (const entry of listFiles({ repo, recursive: true, hubUrl, accessToken })) {
  files.push({ path: entry.path, type: entry.type, size: entry.size, lfs: Boolean(entry.lfs) });
}
const commits = [];
for await (const commit of listCommits({ repo, hubUrl, accessToken })) {
  commits.push({ oid: commit.oid, title: commit.title });
}

const old = await downloadFile({ repo, path: "adapter_model.safetensors", revision: first.commit.oid, hubUrl, accessToken });
const oldBytes = Buffer.from(await old.arrayBuffer());
const original = await readFile(process.env.V1_DIR + "/adapter_model.safetensors");
const info = await fileDownloadInfo({ repo, path: "adapter_model.safetensors", revision: first.commit.oid, hubUrl, accessToken });
const latestConfig = await (await downloadFile({ repo, path: "config/adapter_config.json", hubUrl, accessToken })).text();
const missing = await downloadFile({ repo, path: "no/such/file", hubUrl, accessToken });

const doomed = { type: "model", name: process.env.DOOMED };
await createRepo({ repo: doomed, accessToken, hubUrl });
const kept = await uploadFiles({ repo: doomed, accessToken, hubUrl, useXet: false, files: [pathToFileURL(process.env.V1_DIR + "/")], commitTitle: "one" });
await uploadFiles({ repo: doomed, accessToken, hubUrl, useXet: false, files: [pathToFileURL(process.env.V2_DIR + "/")], commitTitle: "two" });
await createBranch({ repo: doomed, branch: "first", revision: kept.commit.oid, accessToken, hubUrl });
const branchConfig = await (await downloadFile({ repo: doomed, path: "config/adapter_config.json", revision: "first", hubUrl, accessToken })).text();
await createBranch({ repo: doomed, branch: "first", revision: "main", overwrite: true, accessToken, hubUrl });
const movedConfig = await (await downloadFile({ repo: doomed, path: "config/adapter_config.json", revision: "first", hubUrl, accessToken })).text();
await deleteBranch({ repo: doomed, branch: "first", accessToken, hubUrl });
const branchGone = (await downloadFile({ repo: doomed, path: "config/adapter_config.json", revision: "first", hubUrl, accessToken }).catch(() => null)) === null;
await deleteRepo({ repo: doomed, accessToken, hubUrl });

console.log(JSON.stringify({
  branchConfig,
  movedConfig,
  branchGone,
  doomedExists: await repoExists({ repo: doomed, hubUrl, accessToken }),
  repoUrl: created.repoUrl,
  firstCommit: first.commit.oid,
  secondCommit: second.commit.oid,
  files,
  commits,
  oldDownloadSha256: sha256(oldBytes),
  oldDownloadMatches: Buffer.compare(oldBytes, original) === 0,
  oldEtag: info.etag,
  oldSize: info.size,
  latestConfig,
  missingIsNull: missing === null,
}));
