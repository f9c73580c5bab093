"""Common Japanese names, public-sector departments and titles, for synthetic directories.

Used by benchmarks and scale tests to build realistic directories without personal data:
:func:`synthetic_entries` is deterministic for a given seed. The surnames are among the
most common in Japan (in rough order of frequency), each with its usual reading; given
names are common ones with a usual reading. Nothing here is used to decide anything.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import accumulate

from secure_send.core.directory.model import Entry, Kind, Status
from secure_send.core.directory.textnorm import fold_romaji, kana_to_romaji

# (kanji, katakana reading), most common first


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((kanji, kana) for kanji, kana in (item.split(":") for item in text.split()))


def _quads(text: str) -> tuple[tuple[str, str, str, str], ...]:
    return tuple((a, b, c, d) for a, b, c, d in (item.split(":") for item in text.split()))


SURNAMES = _pairs(
    """
    佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト
    中村:ナカムラ 小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ
    松本:マツモト 井上:イノウエ 木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ
    森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ 石川:イシカワ 山下:ヤマシタ 中島:ナカジマ
    石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ 藤田:フジタ 後藤:ゴトウ
    近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 斉藤:サイトウ
    福田:フクダ 太田:オオタ 西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ
    中野:ナカノ 三浦:ミウラ 原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ
    田村:タムラ 中山:ナカヤマ 和田:ワダ 石田:イシダ 森田:モリタ 上田:ウエダ 原:ハラ 内田:ウチダ
    柴田:シバタ 酒井:サカイ 宮崎:ミヤザキ 横山:ヨコヤマ 高木:タカギ 安藤:アンドウ 宮本:ミヤモト
    大野:オオノ 小島:コジマ 谷口:タニグチ 今井:イマイ 工藤:クドウ 高田:タカダ 増田:マスダ
    丸山:マルヤマ 杉山:スギヤマ 村田:ムラタ 大塚:オオツカ 新井:アライ 小山:コヤマ 平野:ヒラノ
    藤本:フジモト 河野:コウノ 上野:ウエノ 野口:ノグチ 武田:タケダ 松井:マツイ 千葉:チバ
    岩崎:イワサキ 菅原:スガワラ 木下:キノシタ 久保:クボ 佐野:サノ 野村:ノムラ 松尾:マツオ
    市川:イチカワ 菊地:キクチ
    """
)

# Variant kanji of some surnames, as people actually register them (a few per cent).
SURNAME_VARIANTS: dict[str, str] = {
    "高橋": "髙橋", "渡辺": "渡邊", "斎藤": "齋藤", "山崎": "山﨑", "宮崎": "宮嵜",
}  # fmt: skip

GIVEN_NAMES = _pairs(
    """
    太郎:タロウ 一郎:イチロウ 健太:ケンタ 翔太:ショウタ 大輔:ダイスケ 拓也:タクヤ 直樹:ナオキ
    健一:ケンイチ 誠:マコト 浩:ヒロシ 隆:タカシ 修:オサム 勇気:ユウキ 大樹:ダイキ 翔:ショウ
    亮:リョウ 剛:ツヨシ 学:マナブ 聡:サトシ 和也:カズヤ 達也:タツヤ 哲也:テツヤ 雄一:ユウイチ
    洋平:ヨウヘイ 康弘:ヤスヒロ 秀樹:ヒデキ 博之:ヒロユキ 正人:マサト 浩二:コウジ 慎一:シンイチ
    俊介:シュンスケ 純一:ジュンイチ 淳:アツシ 徹:トオル 稔:ミノル 豊:ユタカ 進:ススム
    実:ミノル 蓮:レン 陽翔:ハルト 悠真:ユウマ 湊:ミナト 大和:ヤマト 颯太:ソウタ 拓海:タクミ
    陸:リク 優斗:ユウト 悠人:ユウト 一平:イッペイ 雅之:マサユキ
    花子:ハナコ 恵子:ケイコ 洋子:ヨウコ 幸子:サチコ 和子:カズコ 裕子:ユウコ 久美子:クミコ
    由美子:ユミコ 直美:ナオミ 真由美:マユミ 智子:トモコ 美穂:ミホ 愛:アイ 舞:マイ 彩:アヤ
    陽子:ヨウコ 京子:キョウコ 明美:アケミ 香織:カオリ 美紀:ミキ 麻衣:マイ さくら:サクラ
    美咲:ミサキ 陽菜:ヒナ 結衣:ユイ 葵:アオイ 凛:リン 結菜:ユイナ 芽依:メイ 美優:ミユ
    彩花:アヤカ 千尋:チヒロ 綾香:アヤカ 奈々:ナナ 沙織:サオリ 亜希子:アキコ 理恵:リエ
    由紀:ユキ 真理子:マリコ 純子:ジュンコ 節子:セツコ 典子:ノリコ 順子:ジュンコ 美香:ミカ
    恵美:エミ 聡子:サトコ 友美:トモミ 千代子:チヨコ 祥子:ショウコ 文子:フミコ 紀子:ノリコ
    """
)

# (department, its unit, the unit's reading, mail slug) of a typical city hall
DEPARTMENTS = _quads(
    """
    総務部総務課:総務課:ソウムカ:soumu
    総務部人事課:人事課:ジンジカ:jinji
    総務部情報政策課:情報政策課:ジョウホウセイサクカ:jouhou
    総務部危機管理室:危機管理室:キキカンリシツ:kikikanri
    企画部企画政策課:企画政策課:キカクセイサクカ:kikaku
    財政部財政課:財政課:ザイセイカ:zaisei
    財政部契約課:契約課:ケイヤクカ:keiyaku
    税務部市民税課:市民税課:シミンゼイカ:shiminzei
    税務部資産税課:資産税課:シサンゼイカ:shisanzei
    税務部納税課:納税課:ノウゼイカ:nouzei
    市民部戸籍住民課:戸籍住民課:コセキジュウミンカ:koseki
    市民部市民相談課:市民相談課:シミンソウダンカ:soudan
    福祉部福祉総務課:福祉総務課:フクシソウムカ:fukushi
    福祉部高齢福祉課:高齢福祉課:コウレイフクシカ:kourei
    福祉部障害福祉課:障害福祉課:ショウガイフクシカ:shougai
    福祉部生活支援課:生活支援課:セイカツシエンカ:seikatsu
    こども未来部子育て支援課:子育て支援課:コソダテシエンカ:kosodate
    こども未来部保育課:保育課:ホイクカ:hoiku
    健康部健康推進課:健康推進課:ケンコウスイシンカ:kenkou
    健康部保健所:保健所:ホケンジョ:hokenjo
    環境部環境政策課:環境政策課:カンキョウセイサクカ:kankyou
    環境部ごみ減量課:ごみ減量課:ゴミゲンリョウカ:gomi
    経済部商工振興課:商工振興課:ショウコウシンコウカ:shoukou
    経済部農政課:農政課:ノウセイカ:nousei
    都市整備部都市計画課:都市計画課:トシケイカクカ:toshikeikaku
    都市整備部道路課:道路課:ドウロカ:douro
    都市整備部建築指導課:建築指導課:ケンチクシドウカ:kenchiku
    上下水道局水道課:水道課:スイドウカ:suidou
    消防局予防課:予防課:ヨボウカ:yobou
    教育委員会教育総務課:教育総務課:キョウイクソウムカ:kyouiku
    教育委員会学校教育課:学校教育課:ガッコウキョウイクカ:gakkou
    会計課:会計課:カイケイカ:kaikei
    議会事務局:議会事務局:ギカイジムキョク:gikai
    """
)

# Titles with rough weights (most staff hold the junior ones).
TITLES: tuple[tuple[str, int], ...] = (
    ("部長", 1), ("次長", 1), ("課長", 3), ("課長補佐", 4), ("係長", 8), ("主査", 8),
    ("主任", 14), ("主事", 30), ("技師", 6), ("会計年度任用職員", 10), ("", 5),
)  # fmt: skip

DOMAIN = "example.go.jp"
# The most common surname is about ten times as frequent as the 100th (Zipf-like).
_SURNAME_WEIGHTS = list(accumulate(1 / (rank + 1) ** 0.5 for rank in range(len(SURNAMES))))


def romaji_name(reading: str) -> str:
    """Passport-style romaji of a reading: ``サトウ`` -> ``Sato``, ``ユウコ`` -> ``Yuko``."""
    return fold_romaji(kana_to_romaji(reading)).capitalize()


def synthetic_entries(count: int, *, seed: int = 1, departed_share: float = 0.05) -> list[Entry]:
    """``count`` deterministic entries: people plus one role mailbox per department.

    Args:
        count: Total number of entries (roles included; at least one role).
        seed: Same seed, same entries.
        departed_share: Fraction of people marked departed.
    """
    # Not security relevant: a reproducible pseudo-random stream for test data.
    rng = random.Random(seed)  # noqa: S311
    roles = list(_roles())[: max(count // 1000, 1)]
    used: dict[str, int] = {}
    people = [_person(rng, n, used, departed_share) for n in range(count - len(roles))]
    return people + roles


def _person(rng: random.Random, n: int, used: dict[str, int], departed_share: float) -> Entry:
    surname, sur_kana = rng.choices(SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
    if surname in SURNAME_VARIANTS and rng.random() < 0.05:
        surname = SURNAME_VARIANTS[surname]
    given, given_kana = rng.choice(GIVEN_NAMES)
    department = rng.choice(DEPARTMENTS)[0]
    title = rng.choices([t for t, _ in TITLES], weights=[w for _, w in TITLES])[0]
    sur_en, given_en = romaji_name(sur_kana), romaji_name(given_kana)
    local = f"{given_en}.{sur_en}".lower()
    used[local] = used.get(local, 0) + 1
    if used[local] > 1:
        local += str(used[local])
    return Entry(
        id=f"u{n:06d}",
        kind=Kind.PERSON,
        name_ja=f"{surname} {given}",
        name_kana=f"{sur_kana} {given_kana}",
        name_en=f"{sur_en} {given_en}",
        email=f"{local}@{DOMAIN}",
        department=department,
        title=title,
        status=Status.DEPARTED if rng.random() < departed_share else Status.ACTIVE,
    )


def _roles() -> Iterator[Entry]:
    yield Entry(
        id="r-jinji-nenmatsu",
        kind=Kind.ROLE,
        name_ja="人事課 年末調整受付",
        name_kana="ジンジカ ネンマツチョウセイウケツケ",
        name_en="Personnel Division Year-end Adjustment",
        email=f"jinji-nenmatsu@{DOMAIN}",
        department="総務部人事課",
        mynumber_handler=True,  # 個人番号取扱 (issue 19): the desk for My Number papers
    )
    for department, unit, kana, slug in DEPARTMENTS:
        yield Entry(
            id=f"r-{slug}",
            kind=Kind.ROLE,
            name_ja=f"{unit} 代表",
            name_kana=f"{kana} ダイヒョウ",
            name_en=f"{slug.capitalize()} main desk",
            email=f"{slug}@{DOMAIN}",
            department=department,
        )
