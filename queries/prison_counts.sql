-- Each prison's incidents of the chosen types (serious only if asked) in each window
-- [window_start, window_end) (whole months; $window_starts and $window_ends are parallel lists, so one
-- call serves a funnel's single period, a trend's quarters or a programme's before/during/after), over
-- its prisoner-years in the same months, with what it is, what it runs and where its figures come from.
-- A prison with wing populations uses its row-level incidents (source 'recorded'). A prison without
-- takes its published counts and monthly population (source 'published') in a window when they cover
-- every month of it, whole periods only, the shortest period length that does; otherwise it is listed
-- for that window with a note and no figures, so a page can say why it is left out.
WITH windows AS (
    SELECT window_start, window_end, datediff('month', window_start, window_end) AS months
    FROM (SELECT unnest($window_starts::DATE[]) AS window_start, unnest($window_ends::DATE[]) AS window_end) AS asked
    WHERE window_end > window_start
),
window_months AS (  -- each month of each window, so row-level figures join on the month
    SELECT window_start, unnest(generate_series(window_start, window_end - INTERVAL 1 MONTH, INTERVAL 1 MONTH))::DATE AS month
    FROM windows
),
row_level AS (
    SELECT DISTINCT w.prison_id FROM wing_population JOIN wings w USING (wing_id)
),
recorded_population AS (
    SELECT w.prison_id, wm.window_start, prisoner_years(wp.average_population) AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    JOIN window_months wm USING (month)
    GROUP BY ALL
),
recorded_counts AS (
    SELECT i.prison_id, wm.window_start, sum(CASE WHEN $serious_only THEN i.serious_incidents ELSE i.incidents END)::BIGINT AS incidents
    FROM incident_months i
    JOIN window_months wm USING (month)
    WHERE list_contains($incident_types, i.incident_type)
    GROUP BY ALL
),
published_rows AS (
    SELECT c.prison_id, c.incident_type, c.period_months, win.window_start,
           CASE WHEN $serious_only THEN c.serious_incidents ELSE c.incidents END AS n
    FROM prison_incident_counts c
    JOIN windows win
      ON c.period_start >= win.window_start AND c.period_start + to_months(c.period_months) <= win.window_end
    WHERE list_contains($incident_types, c.incident_type)
      AND c.prison_id NOT IN (SELECT prison_id FROM row_level)
),
published_cover AS (
    SELECT prison_id, window_start, incident_type, period_months,
           sum(period_months) AS months, sum(n) AS n, count(*) - count(n) AS unknown
    FROM published_rows
    GROUP BY ALL
),
published_types AS (
    SELECT c.prison_id, c.window_start, c.incident_type, arg_min(c.n, c.period_months) AS n
    FROM published_cover c
    JOIN windows win USING (window_start)
    WHERE c.months = win.months AND c.unknown = 0
    GROUP BY ALL
),
published_counts AS (
    SELECT prison_id, window_start, sum(n)::BIGINT AS incidents
    FROM published_types
    GROUP BY ALL
    HAVING count(*) = len($incident_types)
),
published_population AS (
    SELECT pp.prison_id, wm.window_start, prisoner_years(pp.population) AS prisoner_years, count(*) AS months
    FROM prison_population pp
    JOIN window_months wm USING (month)
    WHERE pp.prison_id NOT IN (SELECT prison_id FROM row_level)
    GROUP BY ALL
),
published_prisons AS (
    SELECT prison_id FROM prison_incident_counts
    UNION
    SELECT prison_id FROM prison_population
),
sourced AS (
    SELECT
        p.prison_id,
        win.window_start,
        win.window_end,
        CASE WHEN r.prison_id IS NOT NULL THEN 'recorded' ELSE 'published' END AS source,
        CASE
            WHEN r.prison_id IS NOT NULL THEN NULL
            WHEN pc.prison_id IS NULL THEN 'its published counts do not cover every month of the period'
            WHEN coalesce(pp.months, 0) < win.months THEN 'its published population does not cover every month of the period'
        END AS note,
        CASE WHEN r.prison_id IS NOT NULL THEN coalesce(rc.incidents, 0) ELSE pc.incidents END AS incidents,
        CASE WHEN r.prison_id IS NOT NULL THEN rp.prisoner_years ELSE pp.prisoner_years END AS prisoner_years
    FROM prisons p
    CROSS JOIN windows win
    LEFT JOIN row_level r ON r.prison_id = p.prison_id
    LEFT JOIN recorded_population rp ON rp.prison_id = p.prison_id AND rp.window_start = win.window_start
    LEFT JOIN recorded_counts rc ON rc.prison_id = p.prison_id AND rc.window_start = win.window_start
    LEFT JOIN published_counts pc ON pc.prison_id = p.prison_id AND pc.window_start = win.window_start
    LEFT JOIN published_population pp ON pp.prison_id = p.prison_id AND pp.window_start = win.window_start
    WHERE (r.prison_id IS NOT NULL AND rp.prisoner_years IS NOT NULL)
       OR (r.prison_id IS NULL AND p.prison_id IN (SELECT prison_id FROM published_prisons))
)
SELECT
    s.window_start,
    s.window_end,
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    coalesce(r.runs_the_conversation, FALSE) AS runs_the_conversation,
    coalesce(r.runs_good_prison_project, FALSE) AS runs_good_prison_project,
    s.source,
    CASE WHEN s.note IS NULL THEN s.incidents END AS incidents,
    CASE WHEN s.note IS NULL THEN s.prisoner_years END AS prisoner_years,
    s.note
FROM prisons p
JOIN sourced s USING (prison_id)
LEFT JOIN prison_programmes r USING (prison_id)
ORDER BY s.window_start, p.name
