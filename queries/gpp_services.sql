-- The coordinators' map of voluntary-sector services and gaps, with each prison's name.
SELECT s.prison_id, p.name AS prison, s.service_id, s.provider, s.category, s.status, s.mapped_on,
       s.through_the_gate, s.protected_characteristic
FROM services s
JOIN prisons p USING (prison_id)
ORDER BY s.prison_id, s.category, s.provider
