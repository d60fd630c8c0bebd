-- Events such as the Outside In marketplace, with who came and the connections made.
SELECT e.event_id, e.prison_id, p.name AS prison, e.held_on, e.name, e.providers_attending,
       e.prisoners_attending, e.staff_attending, e.connections_made
FROM events e
JOIN prisons p USING (prison_id)
ORDER BY e.held_on
