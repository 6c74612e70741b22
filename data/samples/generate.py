#!/usr/bin/env python3
"""Generates the shipped sample data of the tiny config (recipes/configs/tiny.toml) (deterministic; no network; no third-party text).

Everything here is synthetic, written from templates about an invented world, so it carries no licence beyond the
repository's own. Run from the repository root:  python3 data/samples/generate.py

raw/en.jsonl, raw/zh.jsonl   web-like prose with deliberate noise: exact and near duplicates, a duplicated URL,
                             HTML remnants, advertising lines, mojibake, too-short pages, repeated lines, traditional
                             Chinese (the t2s step converts it), e-mail addresses and phone numbers (privacy rule).
supervised.jsonl             question/answer pairs about the same world (fields question, answer), zh and en.
math.jsonl                   MetaMath-style word problems with worked solutions ending "The answer is: N";
                             every answer is computed here, and the solution's arithmetic is checked before writing.
eval/*.jsonl                 held-out documents, pairs and problems from other seeds (never in the training files).
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

EN_TOWNS = ["Alder Ford", "Brightwater", "Cold Harbor", "Dunmore", "Elm Hollow", "Fairhaven", "Greystone", "Hollins",
            "Ivy Cross", "Juniper Bay", "Kestrel Point", "Larkspur", "Millbrook", "North Wick", "Oakridge", "Pine Mesa"]
ZH_TOWNS = ["青石镇", "白水村", "柳河县", "云山镇", "松林村", "桃源县", "临江镇", "石门村", "金沙县", "东湖镇",
            "南岭村", "西川县", "北塘镇", "龙泉村", "凤城县", "安平镇"]
EN_CROPS = ["barley", "apples", "rye", "potatoes", "pears", "oats", "beans", "cabbages", "plums", "hops"]
ZH_CROPS = ["水稻", "小麦", "茶叶", "柑橘", "玉米", "油菜", "花生", "大豆", "桑叶", "甘蔗"]
EN_TRADES = ["weavers", "potters", "fishers", "millers", "smiths", "carpenters", "brewers", "bakers"]
ZH_TRADES = ["织布匠", "陶工", "渔民", "磨坊主", "铁匠", "木匠", "酿酒师", "面点师"]
EN_RIVERS = ["the Avon", "the Swale", "the Teme", "the Lune", "the Esk", "the Wye"]
ZH_RIVERS = ["清河", "白河", "青江", "柳溪", "金水河", "月亮河"]
EN_SEASONS = ["spring", "summer", "autumn", "winter"]
ZH_SEASONS = ["春天", "夏天", "秋天", "冬天"]
EN_WEATHER = ["mild and wet", "dry and windy", "cold and clear", "warm and humid", "grey and foggy"]
ZH_WEATHER = ["温和多雨", "干燥多风", "寒冷晴朗", "温暖潮湿", "阴沉多雾"]


def en_town_doc(rng, town):
    crop, crop2 = rng.sample(EN_CROPS, 2)
    trade = rng.choice(EN_TRADES)
    river = rng.choice(EN_RIVERS)
    season = rng.choice(EN_SEASONS)
    people = rng.randrange(800, 20000)
    year = rng.randrange(1450, 1890)
    s = [
        f"{town} is a small town on the banks of {river}, home to about {people:,} people.",
        f"It was first recorded in {year}, when a handful of families settled near the old ford.",
        f"Most of the land around the town is given over to {crop}, and in good years the farmers also grow {crop2}.",
        f"The town is best known for its {trade}, whose work is sold at the market every Saturday.",
        f"In {season} the weather is usually {rng.choice(EN_WEATHER)}, which suits the {crop} well.",
        f"A stone bridge with {rng.randrange(3, 9)} arches carries the main road across {river}.",
        f"The school teaches {rng.randrange(40, 400)} children, and the library opens on weekday afternoons.",
        f"Visitors often walk the path along the river, which takes about {rng.randrange(1, 5)} hours.",
        f"Every year the town holds a fair to celebrate the harvest of {crop}, with music, food and a long parade.",
        f"Old maps show that the river once ran further east, and the town grew along its former course.",
    ]
    rng.shuffle(s[2:])
    return " ".join(s[:rng.randrange(6, len(s) + 1)])


def en_story_doc(rng, town):
    name = rng.choice(["Anna", "Ben", "Clara", "David", "Ella", "Frank", "Grace", "Henry", "Iris", "Jack"])
    trade = rng.choice(EN_TRADES)
    crop = rng.choice(EN_CROPS)
    lines = [
        f"{name} grew up in {town}, the youngest child in a family of {trade}.",
        f"Every morning {name} walked to the market with a basket of {crop}.",
        f"One {rng.choice(EN_SEASONS)}, a traveller arrived with a map of the hills beyond the river.",
        f"The traveller asked {name} to show the way to the old mill, and {name} agreed.",
        f"They walked for {rng.randrange(2, 7)} hours and talked about the weather, the harvest and the price of bread.",
        f"At the mill they found that the wheel had stopped, because a branch was caught between its blades.",
        f"Together they pulled the branch free, and the wheel began to turn again.",
        f"When {name} came home that evening, the whole family wanted to hear the story.",
        f"Years later, {name} still told it to the children of {town}.",
    ]
    return " ".join(lines[:rng.randrange(6, len(lines) + 1)])


def zh_town_doc(rng, town):
    crop, crop2 = rng.sample(ZH_CROPS, 2)
    trade = rng.choice(ZH_TRADES)
    river = rng.choice(ZH_RIVERS)
    season = rng.choice(ZH_SEASONS)
    people = rng.randrange(800, 20000)
    year = rng.randrange(1450, 1890)
    s = [
        f"{town}位于{river}岸边，常住人口约{people}人。",
        f"据记载，{year}年前后便有几户人家在渡口附近定居。",
        f"镇子周围的田地大多种植{crop}，收成好的年份也种一些{crop2}。",
        f"这里的{trade}远近闻名，他们的手艺品每逢周六都在集市上出售。",
        f"{season}的天气通常{rng.choice(ZH_WEATHER)}，正适合{crop}生长。",
        f"一座{rng.randrange(3, 9)}孔石桥横跨{river}，连接着镇上的主街。",
        f"镇上的学校有{rng.randrange(40, 400)}名学生，图书馆在工作日的下午开放。",
        f"游客喜欢沿着河边的小路散步，走完全程大约需要{rng.randrange(1, 5)}个小时。",
        f"每年{crop}丰收的时候，镇上都会举办庙会，有戏曲、小吃和热闹的游行。",
        f"老地图显示，河道曾经更靠东边，镇子正是沿着旧河道慢慢发展起来的。",
    ]
    rng.shuffle(s[2:])
    return "".join(s[:rng.randrange(6, len(s) + 1)])


def zh_story_doc(rng, town):
    name = rng.choice(["小明", "小红", "阿强", "丽华", "志远", "春燕", "海波", "秀英", "建国", "晓月"])
    trade = rng.choice(ZH_TRADES)
    crop = rng.choice(ZH_CROPS)
    lines = [
        f"{name}从小在{town}长大，家里世代都是{trade}。",
        f"每天早上，{name}都会背着一筐{crop}去集市。",
        f"有一年{rng.choice(ZH_SEASONS)}，一位旅人带着一张山里的地图来到镇上。",
        f"旅人请{name}带路去河对岸的老磨坊，{name}答应了。",
        f"他们走了{rng.randrange(2, 7)}个小时，一路聊着天气、收成和米价。",
        f"到了磨坊，他们发现水车停了，原来是一根树枝卡在了叶片中间。",
        f"两人一起把树枝拉了出来，水车又转了起来。",
        f"那天晚上{name}回到家，全家人都围着听这个故事。",
        f"很多年以后，{name}还常常把这件事讲给镇上的孩子们听。",
    ]
    return "".join(lines[:rng.randrange(6, len(lines) + 1)])


TRAD = str.maketrans({"镇": "鎮", "县": "縣", "岸": "岸", "边": "邊", "记": "記", "载": "載", "户": "戶", "们": "們",
                      "渡": "渡", "这": "這", "里": "裡", "场": "場", "鲜": "鮮", "饭": "飯", "书": "書", "馆": "館",
                      "时": "時", "会": "會", "热": "熱", "闹": "鬧", "长": "長", "买": "買", "卖": "賣", "发": "發"})

EN_ADS = ["Click here to subscribe to our newsletter and win a free holiday!", "Buy now, limited offer, 50% off all items!",
          "Follow us for more great deals. Share this page with your friends!"]
ZH_ADS = ["点击关注，领取优惠券！", "限时特价，全场五折，立即购买！", "扫码加微信，免费领取资料。"]


def noisy(rng, text, lang, i):
    """Returns (text, url, kind) with one kind of web noise, or the clean text."""
    r = rng.random()
    if r < 0.06:
        return f"<div class=\"post\"><p>{text}</p><script>var x = 1;</script></div>", "html"
    if r < 0.12:
        ads = EN_ADS if lang == "en" else ZH_ADS
        sep = "\n"
        return text + sep + sep.join(rng.sample(ads, 2)), "advertising"
    if r < 0.15:
        bad = "Ã©Ã¨Ã Ã¢â€™" if lang == "en" else "锟斤拷锟斤拷烫烫烫"
        return text[: len(text) // 2] + bad * 6 + text[len(text) // 2:], "mojibake"
    if r < 0.18:
        return text.split(". " if lang == "en" else "。")[0][:25], "short"
    if r < 0.21:
        line = text.split(". " if lang == "en" else "。")[0]
        return "\n".join([line] * 12), "repeated-lines"
    if r < 0.24 and lang == "zh":
        return text.translate(TRAD), "traditional"
    if r < 0.27:
        contact = (f" Contact the editor at editor{i}@example.com or call 555-0{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}."
                   if lang == "en" else f"联系编辑：editor{i}@example.com，电话 138{rng.randrange(10000000, 99999999)}。")
        return text + contact, "privacy"
    return text, "clean"


def write(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def prose(lang, count, seed, with_noise):
    rng = random.Random(seed)
    towns = EN_TOWNS if lang == "en" else ZH_TOWNS
    makers = [en_town_doc, en_story_doc] if lang == "en" else [zh_town_doc, zh_story_doc]
    docs, kinds = [], {}
    for i in range(count):
        text = rng.choice(makers)(rng, rng.choice(towns))
        kind = "clean"
        if with_noise:
            text, kind = noisy(rng, text, lang, i)
        url = f"https://{'news' if lang == 'en' else 'xinwen'}.example.org/{lang}/{seed}/{i}"
        docs.append({"id": f"{lang}-{seed}-{i:05d}", "text": text, "url": url, "noise": kind})
    if with_noise:
        # Duplicates: exact copies (new id and url), near copies (one word changed), and one page under a second URL variant.
        for j in range(count // 20):
            d = rng.choice(docs[:count])
            docs.append({"id": f"{d['id']}-copy{j}", "text": d["text"], "url": d["url"] + f"?copy={j}", "noise": "exact-duplicate"})
        for j in range(count // 30):
            d = rng.choice(docs[:count])
            t = d["text"].replace("the ", "a ", 1) if lang == "en" else d["text"].replace("的", "之", 1)
            docs.append({"id": f"{d['id']}-near{j}", "text": t, "url": d["url"] + f"/amp{j}", "noise": "near-duplicate"})
        d = docs[0]
        docs.append({"id": d["id"] + "-www", "text": d["text"] + " ", "url": d["url"].replace("https://", "https://www.") + "#top", "noise": "url-duplicate"})
        rng.shuffle(docs)
    for d in docs:
        kinds[d["noise"]] = kinds.get(d["noise"], 0) + 1
    return docs, kinds


def qa_pairs(count, seed):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if rng.random() < 0.5:
            town, crop, trade, river = rng.choice(EN_TOWNS), rng.choice(EN_CROPS), rng.choice(EN_TRADES), rng.choice(EN_RIVERS)
            q, a = rng.choice([
                (f"Which river flows past {town}?", f"{town} lies on the banks of {river}."),
                (f"What do the farmers of {town} grow?", f"The farmers of {town} mostly grow {crop}."),
                (f"What is {town} known for?", f"{town} is best known for its {trade}."),
                (f"Translate into English: {rng.choice(ZH_TOWNS)}种植{rng.choice(ZH_CROPS)}。", f"The town grows {crop}."),
                (f"Write one sentence about the market in {town}.", f"Every Saturday the {trade} of {town} sell their work at the market."),
            ])
        else:
            town, crop, trade, river = rng.choice(ZH_TOWNS), rng.choice(ZH_CROPS), rng.choice(ZH_TRADES), rng.choice(ZH_RIVERS)
            q, a = rng.choice([
                (f"{town}位于哪条河边？", f"{town}位于{river}岸边。"),
                (f"{town}的农民主要种什么？", f"{town}的农民主要种植{crop}。"),
                (f"{town}以什么闻名？", f"{town}的{trade}远近闻名。"),
                (f"请把这句话翻译成中文：The farmers grow {rng.choice(EN_CROPS)}.", f"农民们种植{crop}。"),
                (f"用一句话介绍{town}的集市。", f"每逢周六，{town}的{trade}都会在集市上出售手艺品。"),
            ])
        # "text" is the plain question: what a reader sees before format-supervised renders the prompt template.
        out.append({"id": f"sft-{seed}-{i:05d}", "text": q, "question": q, "answer": a})
    return out


def math_problems(count, seed):
    rng = random.Random(seed)
    names = ["Tom", "Lily", "Sam", "Mia", "Noah", "Zoe", "Liam", "Ava"]
    items = ["apples", "books", "marbles", "pencils", "stickers", "coins", "cookies", "cards"]
    out = []
    for i in range(count):
        n, item = rng.choice(names), rng.choice(items)
        kind = rng.randrange(4)
        a, b, c = rng.randrange(2, 40), rng.randrange(2, 30), rng.randrange(2, 9)
        if kind == 0:
            q = f"{n} has {a} {item} and buys {b} more. How many {item} does {n} have now?"
            steps, ans = [f"{n} starts with {a} {item}.", f"After buying {b} more, {n} has {a} + {b} = {a + b} {item}."], a + b
        elif kind == 1:
            a = a + b
            q = f"{n} had {a} {item} and gave {b} to a friend. How many {item} are left?"
            steps, ans = [f"{n} had {a} {item}.", f"After giving away {b}, {a} - {b} = {a - b} {item} are left."], a - b
        elif kind == 2:
            q = f"{n} buys {c} boxes of {item} with {b} {item} in each box. How many {item} does {n} buy?"
            steps, ans = [f"Each box holds {b} {item}.", f"{c} boxes hold {c} * {b} = {c * b} {item}."], c * b
        else:
            total = b * c
            q = f"{n} shares {total} {item} equally among {c} friends. How many {item} does each friend get?"
            steps, ans = [f"There are {total} {item} and {c} friends.", f"Each friend gets {total} / {c} = {b} {item}."], b
        # Check every "x op y = z" in the solution before writing it: the data must be right.
        for s in steps:
            if " = " in s:
                lhs, rhs = s.split(" = ")
                expr = " ".join(lhs.split()[-3:])
                assert eval(expr.replace("/", "//")) == int(rhs.split()[0]), (expr, rhs)
        out.append({"id": f"math-{seed}-{i:05d}", "text": q, "question": q,
                    "answer": " ".join(steps) + f" The answer is: {ans}", "final": ans})
    return out


def towns_benchmark(count, seed):
    """Four-way multiple-choice questions about the invented world, in MMLU's CSV layout (no header)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        kind = rng.randrange(3)
        if kind == 0:
            town, river = rng.choice(EN_TOWNS), rng.choice(EN_RIVERS)
            q, right, pool = f"Which river flows past {town}?", river, EN_RIVERS
        elif kind == 1:
            town, crop = rng.choice(EN_TOWNS), rng.choice(EN_CROPS)
            q, right, pool = f"Which crop do the farmers of {town} mostly grow?", crop, EN_CROPS
        else:
            town, trade = rng.choice(EN_TOWNS), rng.choice(EN_TRADES)
            q, right, pool = f"Which trade is {town} best known for?", trade, EN_TRADES
        options = rng.sample([x for x in pool if x != right], 3) + [right]
        rng.shuffle(options)
        rows.append([q, *options, "ABCD"[options.index(right)]])
    return rows


def write_csv(path, rows):
    import csv
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def gsm8k_format(problems):
    """MetaMath-style problems in GSM8K's layout: the reasoning, then '#### N'."""
    return [{"question": p["question"], "answer": p["answer"].split(" The answer is:")[0] + f"\n#### {p['final']}"} for p in problems]


def main():
    en, en_kinds = prose("en", 1500, 11, True)
    zh, zh_kinds = prose("zh", 1500, 12, True)
    write(os.path.join(HERE, "raw", "en.jsonl"), en)
    write(os.path.join(HERE, "raw", "zh.jsonl"), zh)
    write(os.path.join(HERE, "supervised.jsonl"), qa_pairs(1200, 13))
    write(os.path.join(HERE, "math.jsonl"), math_problems(1500, 14))
    write(os.path.join(HERE, "eval", "general-en.jsonl"), prose("en", 60, 21, False)[0])
    write(os.path.join(HERE, "eval", "general-zh.jsonl"), prose("zh", 60, 22, False)[0])
    write(os.path.join(HERE, "eval", "supervised.jsonl"), qa_pairs(60, 23))
    write(os.path.join(HERE, "eval", "math.jsonl"), math_problems(60, 24))
    # Benchmarks in public formats for the per-stage evaluation (MMLU layout; GSM8K layout). The towns' facts are
    # random per question, so a model can only learn the format and the vocabulary, not the answers.
    write_csv(os.path.join(HERE, "eval", "benchmarks", "towns", "dev", "towns_dev.csv"), towns_benchmark(5, 31))
    write_csv(os.path.join(HERE, "eval", "benchmarks", "towns", "test", "towns_test.csv"), towns_benchmark(40, 32))
    write(os.path.join(HERE, "eval", "benchmarks", "gsm8k", "train.jsonl"), gsm8k_format(math_problems(4, 33)))
    write(os.path.join(HERE, "eval", "benchmarks", "gsm8k", "test.jsonl"), gsm8k_format(math_problems(30, 34)))
    print("en noise:", en_kinds)
    print("zh noise:", zh_kinds)


if __name__ == "__main__":
    main()
