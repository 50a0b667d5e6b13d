#!/usr/bin/env python3
"""The speed peer of `pricer data curate`: the course's curation (Ed Donner's LLM Engineering, week 6,
items.py and loaders.py) written again from its description, with the same steps and defaults, the
Hugging Face fast tokenizer through transformers as the course used it, and a process pool over chunks
of 1,000 lines as the course's loader had. Like the course, it keeps every item in memory.

usage: course_peer.py CATALOG.jsonl TOKENIZER.json OUT_DIR WORKERS
prints one JSON line: lines, seconds, lines_per_second, curated, train, test, peak_rss_mb
"""
import json
import os
import random
import re
import resource
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from transformers import PreTrainedTokenizerFast

MIN_PRICE, MAX_PRICE = 0.5, 999.49
MIN_CHARS, MIN_TOKENS, MAX_TOKENS = 300, 150, 160
CEILING_CHARS = MAX_TOKENS * 7
BOILERPLATE = ['"Batteries Included?": "No"', '"Batteries Included?": "Yes"', '"Batteries Required?": "No"',
               '"Batteries Required?": "Yes"', "By Manufacturer", "Item", "Date First", "Package", ":",
               "Number of", "Best Sellers", "Number", "Product "]
NOISE = re.compile(r'[:\[\]"{}【】\s]+')
QUESTION, PREFIX = "How much does this cost to the nearest dollar?", "Price is $"
CHUNK = 1000

tokenizer = None


def load_tokenizer(path):
    global tokenizer
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=path)


def scrub(text):
    text = NOISE.sub(" ", text).strip()
    text = text.replace(" ,", ",").replace(",,,", ",").replace(",,", ",")
    return " ".join(w for w in text.split(" ") if len(w) < 7 or not any(c.isdigit() for c in w))


def curate(line):
    try:
        data = json.loads(line)
        price = float(data["price"])
    except (ValueError, KeyError, TypeError):
        return None
    if not MIN_PRICE <= price <= MAX_PRICE:
        return None
    contents = ""
    if data.get("description"):
        contents += "\n".join(data["description"]) + "\n"
    if data.get("features"):
        contents += "\n".join(data["features"]) + "\n"
    if data.get("details"):
        details = json.dumps(data["details"])
        for phrase in BOILERPLATE:
            details = details.replace(phrase, "")
        contents += details + "\n"
    if len(contents) <= MIN_CHARS:
        return None
    title = data.get("title") or ""
    text = f"{scrub(title)}\n{scrub(contents[:CEILING_CHARS])}"
    tokens = tokenizer.encode(text, add_special_tokens=False)
    if len(tokens) <= MIN_TOKENS:
        return None
    text = tokenizer.decode(tokens[:MAX_TOKENS])
    prompt = f"{QUESTION}\n\n{text}\n\n{PREFIX}{round(price)}.00"
    return {"title": title, "category": data.get("main_category", ""), "price": price, "text": text, "prompt": prompt}


def curate_chunk(lines):
    return [item for item in map(curate, lines) if item is not None]


def chunks(path):
    with open(path, encoding="utf-8") as f:
        batch = []
        for line in f:
            batch.append(line)
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch


def balance(items):
    slots = defaultdict(list)
    for item in items:
        slots[round(item["price"])].append(item)
    rng = np.random.default_rng(42)
    sample = []
    for price in range(0, 1000):
        slot = slots[price]
        if price >= 240 or len(slot) <= 1200:
            sample.extend(slot)
        else:
            weights = np.array([1 if item["category"] == "Automotive" else 5 for item in slot], dtype=float)
            picked = rng.choice(len(slot), size=1200, replace=False, p=weights / weights.sum())
            sample.extend(slot[i] for i in picked)
    random.seed(42)
    random.shuffle(sample)
    return sample


def main():
    catalog, tokenizer_file, out, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    start = time.time()
    lines = sum(1 for _ in open(catalog, encoding="utf-8"))
    items = []
    with ProcessPoolExecutor(max_workers=workers, initializer=load_tokenizer, initargs=(tokenizer_file,)) as pool:
        for result in pool.map(curate_chunk, chunks(catalog)):
            items.extend(result)
    sample = balance(items)
    test = min(2000, len(sample))
    train = min(400_000, len(sample) - test)
    for name, part in (("train", sample[:train]), ("test", sample[train:train + test])):
        with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for item in part:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    seconds = time.time() - start
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"lines": lines, "seconds": round(seconds, 2), "lines_per_second": round(lines / seconds),
                      "curated": len(items), "train": train, "test": test, "peak_rss_mb": round(peak / 1024)}))


if __name__ == "__main__":
    main()
