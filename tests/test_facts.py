"""jobs.facts.extract on real phrasings from the corpus: what is a quantity, what is not, and the span contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.facts import extract
from jobs.read import normalise
from jobs.records import Fact

INBOX = Path(__file__).resolve().parent.parent / "warehouse" / "inbox"

# (phrase, [(raw, value, unit, qualifier, value_high), ...]) — every quantity of the phrase, in order.
POSITIVES: list[tuple[str, list[tuple[str, float, str, str, float | None]]]] = [
    ("累计完成回收52所，投入资金6672万元。", [("52所", 52, "所", "exact", None),
                                         ("6672万元", 66720000, "元", "exact", None)]),
    ("粮食产量1.39万亿斤，再创历史新高。", [("1.39万亿斤", 1.39e12, "斤", "exact", None)]),
    ("新增装机3.7亿千瓦。", [("3.7亿千瓦", 3.7e8, "千瓦", "exact", None)]),
    ("缓建煤电产能5000万千瓦以上", [("5000万千瓦", 5e7, "千瓦", "at_least", None)]),
    ("1400余处安装防护栏17万余米，", [("1400余处", 1400, "处", "at_least", None),
                                 ("17万余米", 170000, "米", "at_least", None)]),
    ("认真组织局机关及下属60个基层党组织，1700余名党员干部", [("60个", 60, "个", "exact", None),
                                              ("1700余名", 1700, "名", "at_least", None)]),
    ("国内生产总值增长6.5%－7%，居民消费价格涨幅3%左右", [("6.5%－7%", 6.5, "%", "range", 7),
                                             ("3%", 3, "%", "about", None)]),
    ("地区生产总值增长5%-5.5%，", [("5%-5.5%", 5, "%", "range", 5.5)]),
    ("因地制宜聚力打造1-2个主导产业", [("1-2个", 1, "个", "range", 2)]),
    ("小型微利企业年应纳税所得额100万元至300万元部分", [("100万元至300万元", 1e6, "元", "range", 3e6)]),
    ("二氧化硫、化学需氧量排放量分别下降23%、15%、18%", [("23%", 23, "%", "exact", None),
                                                ("15%", 15, "%", "exact", None),
                                                ("18%", 18, "%", "exact", None)]),
    ("比重分别高4.2和0.7个百分点", [("4.2", 4.2, "百分点", "exact", None),
                               ("0.7个百分点", 0.7, "百分点", "exact", None)]),
    ("水土流失面积和荒漠化土地面积分别净减少10.6万、3.8万平方公里", [
        ("10.6万", 1.06e5, "平方公里", "exact", None), ("3.8万平方公里", 3.8e4, "平方公里", "exact", None)]),
    ("共获得14金14银11铜的佳绩", [("14金", 14, "金", "exact", None), ("14银", 14, "银", "exact", None),
                               ("11铜", 11, "铜", "exact", None)]),
    ("农村危房改造1万6千多户", [("1万6千多户", 16000, "户", "at_least", None)]),
    ("出境旅游人次由8300万增加到1亿3千多万。", [("8300万", 8.3e7, "", "exact", None),
                                         ("1亿3千多万", 1.3e8, "", "at_least", None)]),
    ("加强城镇老旧小区改造和保障性住房供给，惠及上千万家庭。", [("千万", 1e7, "", "at_least", None)]),
    ("惠及近千万家庭。", [("千万", 1e7, "", "at_most", None)]),
    ("两千多万人受益", [("两千多万人", 2e7, "人", "at_least", None)]),
    ("6600多万纳税人受益", [("6600多万", 6.6e7, "", "at_least", None)]),
    ("返校复学为12万师生织牢了“安全网”", [("12万", 120000, "", "exact", None)]),
    ("排查教材教辅读物近200万册", [("200万册", 2e6, "册", "at_most", None)]),
    ("区政府统筹区财政及各方面资金约6000万元", [("6000万元", 6e7, "元", "about", None)]),
    ("国内生产总值超过126万亿元", [("126万亿元", 1.26e14, "元", "at_least", None)]),
    ("城镇调查失业率5.5%以内", [("5.5%", 5.5, "%", "at_most", None)]),
    ("城镇新增就业1200万人以上", [("1200万人", 1.2e7, "人", "at_least", None)]),
    ("国内生产总值从不到70万亿元增加到超过100万亿元", [("70万亿元", 7e13, "元", "at_most", None),
                                              ("100万亿元", 1e14, "元", "at_least", None)]),
    ("按不低于5%的幅度增加", [("5%", 5, "%", "at_least", None)]),
    ("移动网络流量资费年内至少降低30%", [("30%", 30, "%", "at_least", None)]),
    ("比重提高1.7个百分点", [("1.7个百分点", 1.7, "百分点", "exact", None)]),
    ("货币政策精准有力，两次降低存款准备金率", [("两次", 2, "次", "exact", None)]),
    ("今年由四档税率简并至三档", [("四档", 4, "档", "exact", None), ("三档", 3, "档", "exact", None)]),
    ("零就业家庭至少有一人稳定就业", [("一人", 1, "人", "at_least", None)]),
    ("企业开办时间从一个月以上压缩到目前的平均4个工作日以内", [("一个月", 1, "月", "at_least", None),
                                              ("4个工作日", 4, "工作日", "at_most", None)]),
    ("实行24小时服务", [("24小时", 24, "小时", "exact", None)]),
    ("人均预期寿命再提高1岁", [("1岁", 1, "岁", "exact", None)]),
    ("发放资助金819.85725万元", [("819.85725万元", 8198572.5, "元", "exact", None)]),
    ("实际使用外资1300多亿美元", [("1300多亿美元", 1.3e11, "美元", "at_least", None)]),
    ("出境旅游超过1.2亿人次", [("1.2亿人次", 1.2e8, "人次", "at_least", None)]),
    ("九百六十万平方公里", [("九百六十万平方公里", 9.6e6, "平方公里", "exact", None)]),
    ("工业企业利润由上年下降2.3%转为增长8.5%", [("2.3%", 2.3, "%", "exact", None),
                                          ("8.5%", 8.5, "%", "exact", None)]),
    ("居民消费价格下降-0.8%", [("-0.8%", -0.8, "%", "exact", None)]),
    ("地方政府专项债券3.9万亿元", [("3.9万亿元", 3.9e12, "元", "exact", None)]),
    ("在训人数共计900多人", [("900多人", 900, "人", "at_least", None)]),
    ("城乡居民人均可支配收入分别增长5%、6.5%左右", [("5%", 5, "%", "about", None),
                                             ("6.5%", 6.5, "%", "about", None)]),
    ("三次产业结构由8.7∶41.2∶50.1调整为7.4∶39.6∶53", [
        ("8.7", 8.7, "", "exact", None), ("41.2", 41.2, "", "exact", None), ("50.1", 50.1, "", "exact", None),
        ("7.4", 7.4, "", "exact", None), ("39.6", 39.6, "", "exact", None), ("53", 53, "", "exact", None)]),
    ("产业规模分别达1.28万亿、1.18万亿、8200亿元", [("1.28万亿", 1.28e12, "元", "exact", None),
                                          ("1.18万亿", 1.18e12, "元", "exact", None),
                                          ("8200亿元", 8.2e11, "元", "exact", None)]),
    ("建立年综合能耗5000吨标准煤及以上重点用能单位", [("5000吨标准煤", 5000, "吨标准煤", "at_least", None)]),
    ("打击治理电信网络诈骗成效连续5个季度", [("5个季度", 5, "季度", "exact", None)]),
    ("全省细颗粒物平均浓度27微克/立方米", [("27微克/立方米", 27, "微克/立方米", "exact", None)]),
    ("结构性货币政策工具年度规模已超过万亿元。", [("万亿元", 1e12, "元", "at_least", None)]),
    ("并从5方面提出了具体要求", [("5方面", 5, "方面", "exact", None)]),
    ("贫困发生率降至百分之三点五左右", [("百分之三点五", 3.5, "%", "about", None)]),
    ("累计投资1,200万元", [("1,200万元", 1.2e7, "元", "exact", None)]),
    ("项目建设用时3个多月", [("3个多月", 3, "月", "at_least", None)]),
    ("新建厂房2.5万㎡", [("2.5万㎡", 25000, "平方米", "exact", None)]),
    ("建成220千伏变电站3座", [("3座", 3, "座", "exact", None)]),  # 220千伏 is a voltage class (a label)
    ("城镇化率约为65%", [("65%", 65, "%", "about", None)]),
    ("粮食产量首次跃上1.4万亿斤新台阶", [("1.4万亿斤", 1.4e12, "斤", "exact", None)]),
    ("参与志愿服务千余人次，培训百余场", [("千余人次", 1000, "人次", "at_least", None),
                                     ("百余场", 100, "场", "at_least", None)]),
    ("群众满意度测评达95分", [("95分", 95, "分", "exact", None)]),
    ("人均预期寿命达到79.2岁，", [("79.2岁", 79.2, "岁", "exact", None)]),
    ("累计投入资金三点五亿元", [("三点五亿元", 3.5e8, "元", "exact", None)]),
    ("五六十人参加", [("五六十人", 50, "人", "range", 60)]),
    ("全县两三个乡镇", [("两三个", 2, "个", "range", 3)]),
    ("每季度开展一次专项检查", [("一次", 1, "次", "exact", None)]),
    ("按照1:1比例落实配套资金", [("1", 1, "", "exact", None), ("1", 1, "", "exact", None)]),
    ("日污水处理能力达到12.5万吨/日", [("12.5万吨/日", 1.25e5, "吨/日", "exact", None)]),
    ("每万人口全科医生数达到3.9人/万人", [("3.9人/万人", 3.9, "人/万人", "exact", None)]),
    ("发病率控制在每10万人156例以下", [("156例", 156, "例", "at_most", None)]),
    ("按不低于当地低保标准1.3倍确定", [("1.3倍", 1.3, "倍", "at_least", None)]),
    ("抽检4860批次", [("4860批次", 4860, "批次", "exact", None)]),
    ("集中签约12个项目", [("12个", 12, "个", "exact", None)]),
    ("约占全县的30%", [("30%", 30, "%", "about", None)]),
    ("上网电价0.45元/千瓦时", [("0.45元/千瓦时", 0.45, "元/千瓦时", "exact", None)]),
    ("两个多月", [("两个多月", 2, "月", "at_least", None)]),
    ("压缩至三个工作日", [("三个工作日", 3, "工作日", "exact", None)]),
    ("新能源汽车充电桩1260根", [("1260根", 1260, "根", "exact", None)]),
    ("差异系数小学为0.386、初中为0.312。", [("0.386", 0.386, "", "exact", None), ("0.312", 0.312, "", "exact", None)]),
    ("研发投入增长1倍多。", [("1倍", 1, "倍", "at_least", None)]),
    ("城镇调查失业率下降两个百分点", [("两个百分点", 2, "百分点", "exact", None)]),
    ("现单项体育协会共有16个，一、二、三级和国家级社会体育指导员共计新增302人。",
     [("16个", 16, "个", "exact", None), ("302人", 302, "人", "exact", None)]),
]

# Phrases that hold numbers but no quantity.
NEGATIVES = [
    "新教发〔2023〕1号",
    "2023年1月28日",
    "2022年3月26日—5月1日疫情期间",
    "2022年，在区委、区政府的坚强领导下",
    "比5年前有了很大提高",
    "参加全市第三届党务技能大赛，荣获团体三等奖、个人二等奖",
    "我区青少年竞技体育在全省排名第十二名",
    "部署“十大提升工程”的要求",
    "学前教育“三个百分率”均稳步提升",
    "深入推进作风建设“4+10”专项整治行动",
    "面对“3·16”新建疫情",
    "全面学习宣传贯彻党的二十大精神",
    "扩大有效益的投资，加强“两重”建设",
    "培育千亿级产业",
    "实施新一轮千亿斤粮食产能提升行动",
    "女子举重1人打破省运会女子49公斤级抓举记录"[6:],
    "颁发“光荣在党50年”纪念章",
    "国产大飞机C919投入商业运营",
    "数字经济加快发展，5G用户普及率",
    "细颗粒物（PM2.5）平均浓度",
    "广义货币M2增长",
    "1.赓续初心铸忠诚。",
    "一、突出党建为基",
    "（三）大力推进现代化产业体系建设",
    "坚持“一手抓防疫，一手抓发展”",
    "推出一批标志性、支柱性改革举措",
    "统筹国内国际两个市场两种资源",
    "今年是中华人民共和国成立75周年",
    "按照十三届全国人大五次会议批准的政府工作报告安排",
    "按照省委十五届四次、五次、六次、七次全会和省委经济工作会议部署",
    "由主要依靠第二产业带动转向依靠三次产业共同带动",
    "推进中国－东盟自贸区3.0版谈判",
    "全省百县足球比赛女子组比赛",
    "去年全球通胀达到40多年来新高",
    "全面实施《中国制造2025》",
    "实施“十四五”规划",
    "可再生能源发电装机规模历史性超过火电，全年新增装机超过全球一半",
    "南水北调中线一期工程正式通水",
    "提升幅度居全国第2",
    "新增年销售收入超亿元的农业产业化龙头企业",
    "重点做好十方面工作",
    "新增专业布点数“八大标志性战役30个专项行动”",
    "南昌、赣江新区、九江三地",
    "优良天数比例八成以上",
    "获得第1、2名",
    '深入推进作风建设"4+10"专项整治行动',
    "开展「三个100%」专项行动",
    "弘扬二十四节气文化",
    "每天8时30分开馆",
    "经济社会发展任务十分繁重",
    "惠及千家万户",
    "吸引成千上万游客",
    "占三分之一以上",
    # an age followed by a noun names a group (tests/gold/README.md, Decisions)
    "为60周岁以上老人办理补贴",
    "为全县0-3岁婴幼儿新增普惠托位",
    "每天8:30开馆",
    "两点一线",
    "上世纪五六十年代",
    "新签约亿元以上项目",
    "力争形成1小时交通圈，打造15分钟便民生活圈",
    "推动制造业向工业4.0升级",
    "系统版本号为2.0。",
]


@pytest.mark.parametrize(("phrase", "expected"), POSITIVES, ids=[p for p, _ in POSITIVES])
def test_quantities_in_phrase(phrase: str, expected: list[tuple[str, float, str, str, float | None]]) -> None:
    facts = extract(normalise(phrase))
    got = [(f.raw, f.value, f.unit, f.qualifier, f.value_high) for f in facts]
    assert [g[0] for g in got] == [e[0] for e in expected], got
    for (raw, value, unit, qualifier, high), fact in zip(expected, facts, strict=True):
        assert fact.value == pytest.approx(value, rel=1e-9), raw
        assert (fact.unit, fact.qualifier) == (unit, qualifier), raw
        assert fact.value_high == (None if high is None else pytest.approx(high, rel=1e-9)), raw


@pytest.mark.parametrize("phrase", NEGATIVES)
def test_no_quantity_in_phrase(phrase: str) -> None:
    assert [f.raw for f in extract(normalise(phrase))] == []


@pytest.mark.parametrize(("phrase", "flag", "value", "unit"), [
    ("投资2亿万元，为6所学校装备了各类现代化的功能室", "ambiguous_unit", 2e8, "元"),
    ("门店增加14个家，比去年增幅18.4%", "odd_counter", 14, "家"),
])
def test_odd_input_is_kept_and_flagged(phrase: str, flag: str, value: float, unit: str) -> None:
    fact = extract(normalise(phrase))[0]
    assert (fact.value, fact.unit, flag in fact.flags) == (value, unit, True)


def test_sentence_and_section() -> None:
    text = normalise(
        "一、突出党建为基，在“深学深信”中筑牢堡垒\n"
        "1.赓续初心铸忠诚。认真组织下属60个基层党组织；参加活动\n"
        "2.学思践悟作示范。走访慰问党员64人！\n"
        "二、突出建设为重\n投入资金6672万元？"
    )
    first, second, third = extract(text)
    assert first.sentence == "认真组织下属60个基层党组织；"
    assert first.section == "一、突出党建为基，在“深学深信”中筑牢堡垒 › 1.赓续初心铸忠诚"
    assert second.section.endswith("› 2.学思践悟作示范") and second.sentence == "走访慰问党员64人！"
    assert third.section == "二、突出建设为重" and third.sentence == "投入资金6672万元？"


Corpus = dict[str, tuple[str, list[Fact]]]  # document name → (normalised text, its facts)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    out: Corpus = {}
    for path in sorted(INBOX.glob("*.txt")):
        text = normalise(path.read_text(encoding="utf-8"))
        out[path.stem] = (text, extract(text))
    return out


def test_spans_hold_on_every_document(corpus: Corpus) -> None:
    for name, (text, facts) in corpus.items():
        assert facts, name
        previous_end = 0
        for fact in facts:
            where = f"{name}@{fact.char_start} {fact.raw!r}"
            assert fact.raw == text[fact.char_start : fact.char_end], where
            assert previous_end <= fact.char_start < fact.char_end, where
            previous_end = fact.char_end
            assert text[fact.sentence_start : fact.sentence_start + len(fact.sentence)] == fact.sentence, where
            assert fact.sentence_start <= fact.char_start and fact.raw in fact.sentence, where
            assert fact.qualifier in ("exact", "about", "at_least", "at_most", "range"), where
            assert (fact.value_high is not None) == (fact.qualifier == "range"), where


def test_no_fact_is_a_year_or_an_ordinal(corpus: Corpus) -> None:
    for name, (text, facts) in corpus.items():
        for fact in facts:
            after = text[fact.char_end : fact.char_end + 1]
            before = text[fact.char_start - 1 : fact.char_start]
            # 293项年度改革任务 is fine: only a bare number may not be followed by a date word.
            bare_number = fact.raw[-1].isdigit()
            assert not (bare_number and after in "年月日号") and before != "第", f"{name}: {fact.raw!r}"


def test_properties_hold_on_random_text() -> None:
    """Scrambled numbers, magnitudes, units and punctuation: no crash, and the span contract holds."""
    import random

    pieces = ["1", "2.5", "30", "一", "两", "十", "百", "千", "万", "亿", "多", "余", "个", "人", "元", "%",
              "百分点", "家", "年", "第", "约", "近", "以上", "左右", "、", "和", "-", "－", "至", "。", "\n",
              "“", "”", "《", "》", "之", "分", "∶", "M", "G", ".", ",", "以", "上", "（", "）", "增长"]
    rng = random.Random(20260)
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        previous_end = 0
        for fact in extract(text):
            assert fact.raw == text[fact.char_start : fact.char_end], text
            assert previous_end <= fact.char_start < fact.char_end, text
            previous_end = fact.char_end
            assert text[fact.sentence_start : fact.sentence_start + len(fact.sentence)] == fact.sentence, text
            assert fact.raw in fact.sentence, text
