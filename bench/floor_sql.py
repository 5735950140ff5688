"""The compliance list as one SQL query per database: the export's floor.

It reads what the app reads (shops, the stored facts in ``shop_facts`` — the plausibility
window's slips included —, the companies' licences) and computes in SQL what the app computes in Python: every status, due date, open
and overdue order count, grade and priority, with the reason codes, for today.  Two things it
cannot do, so it leaves them out: decrypt and mask the phone number, and word the reasons in
Chinese (it lists their codes).  bench/exports.py checks it shop by shop against the app's CSV,
so the floor is the same list, not a lighter one.

Each step is a MATERIALIZED CTE: inlined, every use of a column computed by a subquery (the
status on the date, the contract check...) ran its subquery again (PostgreSQL: 17 s, not 1.2).
"""
import datetime as dt
import itertools

from server.labels import LABELS

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

SQLITE = """
WITH base AS MATERIALIZED (
  SELECT s.*, f.last_cleaned_on, f.last_counted_slip_at, f.last_pending_slip_at, f.last_inspected_at, f.lists,
    f.recent_waste,
    CASE WHEN s.cooking_heads <= 2 THEN 'small' WHEN s.cooking_heads <= 5 THEN 'medium' ELSE 'large' END AS scale,
    coalesce((SELECT json_extract(j.value, '$[1]') FROM json_each(f.lists, '$.statuses') j
              WHERE json_extract(j.value, '$[0]') <= '{as_of}' ORDER BY j.key DESC LIMIT 1), 'active') AS on_date,
    CASE WHEN f.last_pending_slip_at >= '{pending_since}'
              AND (f.last_counted_slip_at IS NULL OR f.last_pending_slip_at > f.last_counted_slip_at)
         THEN f.last_pending_slip_at ELSE f.last_counted_slip_at END AS last_slip,
    (SELECT count(*) FROM json_each(f.lists, '$.contracts')) AS contracts,
    EXISTS (SELECT 1 FROM json_each(f.lists, '$.contracts') j
            JOIN collector_companies c ON c.id = json_extract(j.value, '$[2]')
            WHERE json_extract(j.value, '$[0]') <= '{as_of}' AND json_extract(j.value, '$[1]') >= '{as_of}'
              AND c.licence_valid_until >= '{as_of}') AS valid_contract,
    (SELECT count(*) FROM json_each(f.lists, '$.orders')) AS open_orders,
    (SELECT count(*) FROM json_each(f.lists, '$.orders') j
     WHERE json_extract(j.value, '$[0]') AND json_extract(j.value, '$[1]') < '{as_of}') AS overdue_orders,
    (SELECT group_concat(code, '、') FROM (
       SELECT json_extract(j.value, '$[0]') AS code FROM json_each(f.lists, '$.failures') j
       WHERE json_extract(j.value, '$[2]') > '{year_ago}' GROUP BY code ORDER BY code)) AS failed,
    (SELECT group_concat(code, '、') FROM (
       SELECT json_extract(j.value, '$[0]') AS code FROM json_each(f.lists, '$.failures') j
       WHERE json_extract(j.value, '$[2]') > '{year_ago}' GROUP BY code
       HAVING count(DISTINCT json_extract(j.value, '$[1]')) >= 2 ORDER BY code)) AS repeated
  FROM shops s LEFT JOIN shop_facts f ON f.shop_id = s.id
), dated AS MATERIALIZED (
  SELECT *, date(coalesce(last_cleaned_on, registered_on),
                 '+' || CASE scale WHEN 'small' THEN {small} WHEN 'medium' THEN {medium} ELSE {large} END || ' days')
              AS due_on,
         CASE scale WHEN 'small' THEN 60 WHEN 'medium' THEN 75 ELSE 85 END AS min_efficiency,
         registered_on <= '{as_of}' AND on_date = 'active' AS graded
  FROM base
), statuses AS MATERIALIZED (
  SELECT *,
    CASE WHEN NOT graded THEN NULL WHEN NOT purifier_installed THEN 'no_purifier'
         WHEN '{as_of}' > due_on THEN 'overdue' WHEN last_cleaned_on IS NULL THEN 'never_cleaned'
         WHEN '{as_of}' >= date(due_on, '-{due_soon} days') THEN 'due_soon' ELSE 'ok' END AS purifier,
    CASE WHEN NOT graded THEN NULL WHEN contracts = 0 THEN 'no_contract' WHEN NOT valid_contract THEN 'contract_expired'
         WHEN coalesce(last_slip, datetime(registered_on, '-8 hours')) < '{gap_since}' THEN 'overdue'
         ELSE 'ok' END AS waste,
    purifier_installed AND purifier_rated_efficiency < min_efficiency AS undersized
  FROM dated
), reasons AS MATERIALIZED (
  SELECT *,
    trim(CASE WHEN purifier = 'no_purifier' THEN ' no_purifier' ELSE '' END
      || CASE WHEN purifier = 'overdue' THEN ' purifier_overdue' ELSE '' END
      || CASE WHEN graded AND undersized THEN ' purifier_undersized' ELSE '' END
      || CASE WHEN waste IN ('no_contract', 'contract_expired') THEN ' ' || waste ELSE '' END
      || CASE WHEN waste = 'overdue' THEN ' waste_overdue' ELSE '' END
      || CASE WHEN graded AND overdue_orders > 0 THEN ' rectification_overdue' ELSE '' END
      || CASE WHEN graded AND repeated IS NOT NULL THEN ' repeat_failure:' || repeated ELSE '' END) AS c_reasons,
    trim(CASE WHEN purifier = 'never_cleaned' THEN ' never_cleaned' ELSE '' END
      || CASE WHEN purifier = 'due_soon' THEN ' purifier_due_soon' ELSE '' END
      || CASE WHEN graded AND open_orders > 0 THEN ' rectification_open' ELSE '' END
      || CASE WHEN graded AND failed IS NOT NULL THEN ' recent_failure:' || failed ELSE '' END) AS b_reasons
  FROM statuses
{tail}"""

# The grade and the output columns, the same on both databases but for two expressions.
TAIL = """), graded AS MATERIALIZED (
  SELECT *, CASE WHEN NOT graded THEN NULL WHEN c_reasons <> '' THEN 'C' WHEN b_reasons <> '' THEN 'B'
                 ELSE 'A' END AS grade
  FROM reasons
), slip_kg AS MATERIALIZED (
  SELECT g.id AS shop_id, sum({waste_kg}) AS kg
  FROM graded g, {waste_items}
  WHERE {waste_at} >= '{window_since}' AND {waste_at} <= '{now}'
  GROUP BY g.id
), figures AS MATERIALIZED (
  SELECT g.id, g.district_code, g.scale, g.graded,
         w.kg * 1.0 / g.cooking_heads / {window_days} AS figure
  FROM graded g JOIN slip_kg w ON w.shop_id = g.id WHERE g.registered_on <= '{as_of}'
), ranked AS MATERIALIZED (
  SELECT district_code, scale, figure,
         row_number() OVER (PARTITION BY district_code, scale ORDER BY figure) AS n,
         count(*) OVER (PARTITION BY district_code, scale) AS peers,
         row_number() OVER (PARTITION BY scale ORDER BY figure) AS city_n,
         count(*) OVER (PARTITION BY scale) AS city_peers
  FROM figures
), district_medians AS MATERIALIZED (
  SELECT district_code, scale, avg(figure) AS median FROM ranked
  WHERE peers >= 10 AND n IN ((peers + 1) / 2, (peers + 2) / 2) GROUP BY district_code, scale
), city_medians AS MATERIALIZED (
  SELECT scale, avg(figure) AS median FROM ranked
  WHERE city_peers >= 10 AND city_n IN ((city_peers + 1) / 2, (city_peers + 2) / 2) GROUP BY scale
), flagged AS MATERIALIZED (
  SELECT f.id AS flagged_id FROM figures f
  LEFT JOIN district_medians d ON d.district_code = f.district_code AND d.scale = f.scale
  LEFT JOIN city_medians c ON c.scale = f.scale
  WHERE f.graded AND round(f.figure, 6) < round({share} * coalesce(d.median, c.median), 6)
)
SELECT id, name, uscc, address, district_code, (SELECT d.name FROM districts d WHERE d.code = graded.district_code),
  street, CASE scale WHEN 'small' THEN '小型' WHEN 'medium' THEN '中型' ELSE '大型' END AS scale_name, cooking_heads,
  contact_name, [shop_status],
  CASE WHEN claimed_at IS NULL THEN '否' ELSE '是' END,
  [purifier], CASE WHEN graded THEN last_cleaned_on END, CASE WHEN graded AND purifier_installed THEN due_on END,
  [waste],
  CASE WHEN graded THEN {last_slip_text} END,
  CASE WHEN graded THEN open_orders ELSE 0 END, CASE WHEN graded THEN overdue_orders ELSE 0 END, grade,
  CASE WHEN NOT graded THEN 'not_active' WHEN grade = 'C' THEN c_reasons ELSE b_reasons END,
  CASE WHEN NOT graded THEN 0 ELSE CASE grade WHEN 'C' THEN 2000 WHEN 'B' THEN 1000 ELSE 0 END
    + CASE WHEN id IN (SELECT flagged_id FROM flagged) THEN 1000 ELSE 0 END
    + CASE WHEN last_inspected_at IS NULL THEN 999
           ELSE {weeks_since_inspection} END END,
  '{as_of}', CASE WHEN id IN (SELECT flagged_id FROM flagged) THEN 'waste_low' ELSE '' END
FROM graded ORDER BY id
"""
DIALECT = {
    "sqlite": {"last_slip_text": "strftime('%Y-%m-%d %H:%M:%S', last_slip, '+8 hours')",
               "weeks_since_inspection": "min(999, CAST(julianday('{as_of}') - julianday(date(last_inspected_at, "
                                         "'+8 hours')) AS INTEGER) / 7)",
               "window_days": "min(30, max(1, CAST(julianday('{as_of}') - julianday(g.registered_on) AS INTEGER) + 1))",
               "waste_items": "json_each(g.recent_waste) j",
               "waste_at": "json_extract(j.value, '$[0]')",
               "waste_kg": "coalesce(json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]') * {kg_per_bin})"},
    "postgresql": {"last_slip_text": "to_char(last_slip AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')",
                   "weeks_since_inspection": "least(999, ('{as_of}'::date - (last_inspected_at AT TIME ZONE "
                                             "'Asia/Shanghai')::date) / 7)",
                   "window_days": "least(30, greatest(1, '{as_of}'::date - g.registered_on + 1))",
                   "waste_items": "jsonb_array_elements(g.recent_waste::jsonb) j(value)",
                   "waste_at": "(j.value ->> 0)",
                   "waste_kg": "coalesce((j.value ->> 1)::numeric, (j.value ->> 2)::numeric * {kg_per_bin})"},
}

POSTGRESQL = """
WITH base AS MATERIALIZED (
  SELECT s.*, f.last_cleaned_on, f.last_counted_slip_at, f.last_pending_slip_at, f.last_inspected_at,
    f.lists::jsonb AS lists, f.recent_waste,
    CASE WHEN s.cooking_heads <= 2 THEN 'small' WHEN s.cooking_heads <= 5 THEN 'medium' ELSE 'large' END AS scale,
    CASE WHEN f.last_pending_slip_at >= '{pending_since}'
              AND (f.last_counted_slip_at IS NULL OR f.last_pending_slip_at > f.last_counted_slip_at)
         THEN f.last_pending_slip_at ELSE f.last_counted_slip_at END AS last_slip
  FROM shops s LEFT JOIN shop_facts f ON f.shop_id = s.id
), listed AS MATERIALIZED (
  SELECT b.*,
    coalesce((SELECT j.value ->> 1 FROM jsonb_array_elements(b.lists -> 'statuses') WITH ORDINALITY j(value, n)
              WHERE j.value ->> 0 <= '{as_of}' ORDER BY n DESC LIMIT 1), 'active') AS on_date,
    coalesce(jsonb_array_length(b.lists -> 'contracts'), 0) AS contracts,
    EXISTS (SELECT 1 FROM jsonb_array_elements(b.lists -> 'contracts') j(value)
            JOIN collector_companies c ON c.id = (j.value ->> 2)::int
            WHERE j.value ->> 0 <= '{as_of}' AND j.value ->> 1 >= '{as_of}'
              AND c.licence_valid_until >= '{as_of}') AS valid_contract,
    coalesce(jsonb_array_length(b.lists -> 'orders'), 0) AS open_orders,
    (SELECT count(*) FROM jsonb_array_elements(b.lists -> 'orders') j(value)
     WHERE (j.value ->> 0)::boolean AND j.value ->> 1 < '{as_of}') AS overdue_orders,
    (SELECT string_agg(code, '、' ORDER BY code) FROM (
       SELECT j.value ->> 0 AS code FROM jsonb_array_elements(b.lists -> 'failures') j(value)
       WHERE j.value ->> 2 > '{year_ago}' GROUP BY 1) codes) AS failed,
    (SELECT string_agg(code, '、' ORDER BY code) FROM (
       SELECT j.value ->> 0 AS code FROM jsonb_array_elements(b.lists -> 'failures') j(value)
       WHERE j.value ->> 2 > '{year_ago}' GROUP BY 1 HAVING count(DISTINCT j.value ->> 1) >= 2) codes) AS repeated
  FROM base b
), dated AS MATERIALIZED (
  SELECT *, coalesce(last_cleaned_on, registered_on)
              + CASE scale WHEN 'small' THEN {small} WHEN 'medium' THEN {medium} ELSE {large} END AS due_on,
         CASE scale WHEN 'small' THEN 60 WHEN 'medium' THEN 75 ELSE 85 END AS min_efficiency,
         registered_on <= '{as_of}' AND on_date = 'active' AS graded
  FROM listed
), statuses AS MATERIALIZED (
  SELECT *,
    CASE WHEN NOT graded THEN NULL WHEN NOT purifier_installed THEN 'no_purifier'
         WHEN '{as_of}' > due_on THEN 'overdue' WHEN last_cleaned_on IS NULL THEN 'never_cleaned'
         WHEN '{as_of}'::date >= due_on - {due_soon} THEN 'due_soon' ELSE 'ok' END AS purifier,
    CASE WHEN NOT graded THEN NULL WHEN contracts = 0 THEN 'no_contract' WHEN NOT valid_contract THEN 'contract_expired'
         WHEN coalesce(last_slip, registered_on::timestamp AT TIME ZONE 'Asia/Shanghai') < '{gap_since}'
         THEN 'overdue' ELSE 'ok' END AS waste,
    coalesce(purifier_installed AND purifier_rated_efficiency < min_efficiency, false) AS undersized
  FROM dated
), reasons AS MATERIALIZED (
  SELECT *,
    concat_ws(' ', CASE WHEN purifier = 'no_purifier' THEN 'no_purifier' END,
      CASE WHEN purifier = 'overdue' THEN 'purifier_overdue' END,
      CASE WHEN graded AND undersized THEN 'purifier_undersized' END,
      CASE WHEN waste IN ('no_contract', 'contract_expired') THEN waste END,
      CASE WHEN waste = 'overdue' THEN 'waste_overdue' END,
      CASE WHEN graded AND overdue_orders > 0 THEN 'rectification_overdue' END,
      CASE WHEN graded AND repeated IS NOT NULL THEN 'repeat_failure:' || repeated END) AS c_reasons,
    concat_ws(' ', CASE WHEN purifier = 'never_cleaned' THEN 'never_cleaned' END,
      CASE WHEN purifier = 'due_soon' THEN 'purifier_due_soon' END,
      CASE WHEN graded AND open_orders > 0 THEN 'rectification_open' END,
      CASE WHEN graded AND failed IS NOT NULL THEN 'recent_failure:' || failed END) AS b_reasons
  FROM statuses
{tail}"""


def compliance_floor_sql(dialect, now, intervals=(90, 60, 30), due_soon=7, gap_days=3, pending_hours=48,
                         kg_per_bin=108.0, waste_low_share=0.25):
    """The query for ``dialect`` ("sqlite" or "postgresql") as of ``now`` (aware, UTC)."""
    as_of = now.astimezone(SHANGHAI).date()
    window_start = dt.datetime.combine(as_of - dt.timedelta(days=29), dt.time(), SHANGHAI)
    utc = now.astimezone(dt.timezone.utc)
    if dialect == "sqlite":  # stored as naive UTC text
        def stamp(moment):
            return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    else:
        def stamp(moment):
            return moment.isoformat()
    year_ago = (utc - dt.timedelta(days=365)).isoformat(timespec="microseconds")  # as shop_facts writes it
    small, medium, large = intervals
    tail = TAIL
    # The words the app's human file prints for coded values, from the same label table.
    for placeholder, column, kind in (("[shop_status]", "status", "shop_status"),
                                      ("[purifier]", "purifier", "purifier_status"), ("[waste]", "waste", "waste_status")):
        whens = " ".join(f"WHEN '{code}' THEN '{word}'" for code, word in LABELS[kind].items())
        tail = tail.replace(placeholder, f"coalesce(CASE {column} {whens} END, '—')")
    for name, expression in DIALECT[dialect].items():
        tail = tail.replace("{" + name + "}", expression)
    template = (SQLITE if dialect == "sqlite" else POSTGRESQL).replace("{tail}", tail)
    return template.format(as_of=as_of.isoformat(), pending_since=stamp(utc - dt.timedelta(hours=pending_hours)),
                           gap_since=stamp(utc - dt.timedelta(days=gap_days)), year_ago=year_ago,
                           small=small, medium=medium, large=large, due_soon=due_soon,
                           # as shop_facts writes times (fixed-width UTC text)
                           window_since=window_start.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
                           now=utc.isoformat(timespec="microseconds"),
                           kg_per_bin=float(kg_per_bin), share=float(waste_low_share))


def differences(app_rows, floor_rows):
    """``(count, [(app row, floor row)...])``: rows of the app's compliance CSV (header skipped)
    against the floor's, compared on every column but the phone (SQL cannot decrypt it), the
    reasons and the flags (the floor gives their codes)."""
    differing, count = [], 0
    for app_row, floor_row in itertools.zip_longest(app_rows, floor_rows):
        count += 1
        if app_row is None or floor_row is None:
            return count, [(app_row, floor_row)]
        # The flags column: the app words them, the floor gives the code.
        expected = app_row[:10] + app_row[11:21] + app_row[22:-1] + ["waste_low" if app_row[-1] else ""]
        got = ["" if value is None else str(value) for value in floor_row]
        if expected != got[:20] + got[21:]:
            differing.append((expected, got))
    return count, differing
