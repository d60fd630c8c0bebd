-- Where and when each programme ran (one row per prison and start), with the prison's name.
SELECT s.programme, s.prison_id, p.name, s.started_on, s.ended_on, s.note
FROM programme_sites s
JOIN prisons p USING (prison_id)
ORDER BY s.programme, p.name, s.started_on
