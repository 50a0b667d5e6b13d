// Shared helpers of the hub pages: they read the same Hugging Face API the clients use.
const params = new URLSearchParams(location.search);

export const type = params.get("type") === "datasets" ? "datasets" : "models";
export const repo = params.get("repo");

export async function api(path) {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.error || `${res.status} ${res.statusText}`);
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
