"""Adds up an ncu --csv log of gpu__time_duration by kernel name: usage ncu_sum.py LOG STEPS (per-step figures)."""
import csv, sys, collections
rows = list(csv.reader(open(sys.argv[1], errors='replace')))
steps = float(sys.argv[2])
head = None; tot = collections.Counter(); cnt = collections.Counter()
for r in rows:
    if head is None:
        if 'Kernel Name' in r: head = r
        continue
    if len(r) != len(head): continue
    d = dict(zip(head, r))
    if d.get('Metric Name') != 'gpu__time_duration.sum': continue
    name = d['Kernel Name'].split('(')[0][:90]
    tot[name] += float(d['Metric Value'].replace(',', '')); cnt[name] += 1
all_ns = sum(tot.values())
print(f"total {all_ns/1e6/steps:.1f} ms per step over {steps} steps, {sum(cnt.values())/steps:.0f} launches per step")
for n, t in tot.most_common():
    print(f"{t/1e6/steps:8.2f} ms {cnt[n]/steps:7.0f}x  {n}")
