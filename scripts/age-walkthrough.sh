#!/usr/bin/env bash
# A narrated walkthrough of the age-compatible encryption CLI and the IT-verified
# directory tools (`make age-walkthrough`). The product itself: `make demo`.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
say() { printf '\n\033[1m▶ %s\033[0m\n' "$*"; }

say "Two colleagues make their own keys (private halves stay in files only they can read)"
secure-send keygen -o sato.key
secure-send keygen -o suzuki.key
ls -l sato.key suzuki.key

say "Sato encrypts a year-end tax file to Suzuki and to herself"
printf '氏名,個人番号\n山田 太郎,123456789012\n' > nenmatsu.csv
secure-send encrypt -r "$(secure-send keygen -y suzuki.key)" -r "$(secure-send keygen -y sato.key)" \
  -o nenmatsu.csv.age nenmatsu.csv
head -c 200 nenmatsu.csv.age | od -c | head -5

say "Suzuki decrypts it (atomically: the file appears only once it fully authenticated)"
secure-send decrypt -i suzuki.key -o received.csv nenmatsu.csv.age
cat received.csv

if command -v age >/dev/null; then
  say "No lock-in: the reference age tool opens the same file"
  age -d -i suzuki.key nenmatsu.csv.age
fi

say "A modified file is refused, and no partial output is left behind"
python3 - <<'PY'
data = bytearray(open("nenmatsu.csv.age", "rb").read())
data[-5] ^= 1
open("tampered.age", "wb").write(data)
PY
secure-send decrypt -i suzuki.key -o tampered.csv tampered.age || true
ls tampered.csv 2>/dev/null || echo "(no tampered.csv was created)"

say "Someone it was not sent to cannot open it"
secure-send keygen -o outsider.key 2>/dev/null
secure-send decrypt -i outsider.key nenmatsu.csv.age || true

say "IT sets up the verified directory of a fictional ministry (2-of-3 root keys)"
secure-send-admin --home org init --org "デモ省" --server-url https://drop.demo.example.go.jp
secure-send-admin --home org generate --demo -o demo.csv
secure-send-admin --home org import --csv demo.csv

say "Every recipient comes from this directory; role mailboxes list their members"
secure-send-admin --home org show nenmatsu

say "A bad import changes nothing: every bad row is reported with its line"
printf 'id,kind,name_ja,name_kana,name_en,email,department,title,members\nx,person,山田,ヤマダ,Yamada,not-an-email,人事課,,\n,person,名無し,,,a@example.go.jp,人事課,,\n' > bad.csv
secure-send-admin --home org import --csv bad.csv || true

say "A one-time enrolment code for a new colleague's PC (stored only as a hash)"
secure-send-admin --home org enrol-code hanako.sato

say "The published directory verifies as a client would check it"
secure-send-admin --home org verify

say "Done. See README.md for the CLI reference."
