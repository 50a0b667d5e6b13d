// Shared helpers of the hub pages: they read the same Hugging Face API the clients use.
const params = new URLSearchParams(location.search);

export const type = params.get("type") === "datasets" ? "datasets" : "models";
export const repo = params.get("repo");

/**
 * Calls send the token the dashboard keeps (pricer token create), so private repositories show to their members;
 * with {@code body}, a POST of it as JSON (or {@code method}'s).
 */
export async function api(path, body, method = body === undefined ? "GET" : "POST") {
  const headers = { accept: "application/json" };
  const token = localStorage.getItem("pricerToken");
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw Object.assign(new Error(body.error || `${res.status} ${res.statusText}`), { status: res.status });
  }
  return res.json();
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

export function bytes(n) {
  if (n < 0) return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function when(iso) {
  return new Date(iso).toLocaleString();
}

export function repoLink(rev, tab) {
  return `repo.html?type=${type}&repo=${encodeURIComponent(repo)}&rev=${encodeURIComponent(rev)}${tab ? `&tab=${tab}` : ""}`;
}

export function commitLink(sha) {
  return `commit.html?type=${type}&repo=${encodeURIComponent(repo)}&sha=${sha}`;
}

export function fileUrl(rev, path) {
  const prefix = type === "models" ? "" : "/datasets";
  return `${prefix}/${repo}/resolve/${encodeURIComponent(rev)}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** Tags by the commit they point at, e.g. step-200 for the checkpoint saved at step 200. */
export async function tagsByCommit() {
  const refs = await api(`/api/${type}/${repo}/refs`);
  const tags = new Map();
  for (const tag of refs.tags) tags.set(tag.targetCommit, [...(tags.get(tag.targetCommit) || []), tag.name]);
  return { refs, tags };
}

export function fail(error) {
  document.querySelector("main").append(el("p", { class: "error" }, error.message));
}

/** The page of the tracked run a checkpoint commit belongs to, at the step it saved (marked on the charts). */
export function runLink(runId, step) {
  return `/runs/${encodeURIComponent(runId)}${step != null ? `?step=${step}` : ""}`;
}

/** "step N", linking to the run at that step when the commit names its run. */
export function stepNode(commit) {
  if (commit.step == null) return "";
  const text = `step ${commit.step}`;
  return commit.run ? el("a", { class: "step-link", href: runLink(commit.run, commit.step) }, text) : text;
}

/** A link to the tracked run, by name when the tracking API knows it. */
export async function runNode(runId) {
  const link = el("a", { id: "run-link", href: runLink(runId) }, runId);
  try {
    link.textContent = (await api(`/api/track/runs/${encodeURIComponent(runId)}`)).name;
  } catch (e) {
    link.title = e.message;
  }
  return link;
}
