"""Time to cite a 10,000-character draft in one ``Assistant.cite`` call, clauses per second, peak RSS.

    .venv/bin/python benchmarks/draft_bench.py [--chars 10000] [--rounds 3]

The draft is built from realistic report paragraphs (on-plan statements mixed with off-plan ones),
each copy given its own district and figures so that no two clauses are identical (identical clauses
are embedded once, which would flatter the figure). Uses the default embedder and a fresh temporary
index folder. Prints figures and asserts nothing; the machine's load average is printed too, since
other processes on a small machine change the embedding time a lot.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.drafts import split_clauses
from assistant.qa import Assistant
from assistant.settings import Settings

PARAGRAPHS = [
    "今年以来，{d}全面推进海绵城市建设，完成老旧燃气管道改造{n}公里，同时举办社区读书月活动。",
    "{d}人社局面向农民工开展职业技能培训{n}万人次，落实定向培训补贴政策，并组织“春风行动”专场招聘会。",
    "保障性租赁住房新增供应{n}套，新时代城市建设者管理者之家新增床位{n}张，春节前为困难群众发放慰问金。",
    "推进安全生产治本攻坚“十大行动”，聚焦电动自行车、燃气等重点领域开展隐患整治，组织辖区消防演练{n}场。",
    "{d}教育局健全随迁子女入学保障机制，推进义务教育优质均衡，办好家门口学校。",
    "完成既有建筑节能改造{n}万平方米，新建大型公共建筑按绿色建筑三星级标准建设，开展机关作风建设专项整治。",
    "持续打好蓝天碧水净土保卫战，细颗粒物年均浓度控制在{n}微克/立方米以内；推动碳普惠体系常态化运行；开展控烟宣传进机关活动。",
    "{d}持续深化“一网通办”“一网统管”建设，上线跨省“一件事”集成服务，并完成机关档案整理归档{n}卷。",
    "全市轨道交通运营里程持续增长，高速公路服务区快充站基本实现全覆盖，{d}新增公共停车泊位{n}个。",
    "推进儿童友好城市建设，建成社区嵌入式服务设施{n}处，开展“学雷锋”志愿服务活动。",
    "完成供水管道改造{n}公里、排水管道改造{n}公里，推进综合管廊建设运营，架空线入地和杆箱整治有序推进。",
    "区医保局稳步扩大异地就医直接结算定点医疗机构数量，推动长三角康养项目合作，开展医保基金监管专项检查{n}次。",
]
DISTRICTS = [
    "我区",
    "浦东新区",
    "黄浦区",
    "徐汇区",
    "长宁区",
    "静安区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "闵行区",
    "宝山区",
    "嘉定区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
]


def build_draft(chars: int) -> str:
    """Paragraphs, each copy with its own district and figures, until ``chars`` characters."""
    parts: list[str] = []
    for k in itertools.count():
        template = PARAGRAPHS[k % len(PARAGRAPHS)]
        district = DISTRICTS[(k // len(PARAGRAPHS)) % len(DISTRICTS)]
        paragraph = template.format(d=district, n=k + 3)
        paragraph = re.sub(r"(\d+)", lambda m, k=k: str(int(m.group(1)) + k), paragraph)
        if sum(map(len, parts)) + len(paragraph) + 1 > chars:
            break
        parts.append(paragraph)
    return "\n".join(parts)


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    draft = build_draft(args.chars)
    clauses = split_clauses(draft)
    print(f"draft: {len(draft)} characters, {len(clauses)} clauses, {len({c.text for c in clauses})} distinct")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        assistant = Assistant.open(Settings.from_env(index_dir=Path(tmp) / "index"))
        print(f"assistant open (index build + warm-up): {time.perf_counter() - start:.2f} s")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        embedder = assistant.search_engine.embedder
        embed_queries, embedded = embedder.embed_queries, []

        def timed(texts):  # how much of the time is the embedding model
            start = time.perf_counter()
            vectors = embed_queries(texts)
            embedded.append((len(texts), time.perf_counter() - start))
            return vectors

        embedder.embed_queries = timed
        times = []
        for _ in range(args.rounds):
            embedded.clear()
            start = time.perf_counter()
            result = assistant.cite(draft)
            times.append(time.perf_counter() - start)
            queries, seconds = map(sum, zip(*embedded, strict=True)) if embedded else (0, 0.0)
            print(f"  round: {times[-1]:.2f} s, of which embedding {seconds:.2f} s ({queries} queries in {len(embedded)} call)")
        cited = sum(1 for c in result.clauses if c.tasks)
        best, worst = min(times), max(times)
        print(f"cite 10k draft: best {best:.2f} s, worst {worst:.2f} s over {args.rounds} rounds")
        print(f"clauses/second (best): {len(result.clauses) / best:.0f}")
        print(f"clauses with a citation: {cited} of {len(result.clauses)}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
