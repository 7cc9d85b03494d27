SELECT
  "t2"."person_id",
  CASE
    WHEN TRUE
    AND (
      (
        "t2"."_e1" IS NOT NULL
      )
      AND (
        "t2"."_t1" <= (
          "t2"."ts" + INTERVAL '1800' SECOND
        )
      )
    )
    THEN "t2"."_e1"
    WHEN TRUE
    THEN '(end)'
    ELSE CAST(NULL AS TEXT)
  END AS "hop_1",
  CASE
    WHEN TRUE
    AND (
      (
        "t2"."_e1" IS NOT NULL
      )
      AND (
        "t2"."_t1" <= (
          "t2"."ts" + INTERVAL '1800' SECOND
        )
      )
    )
    AND (
      (
        "t2"."_e2" IS NOT NULL
      )
      AND (
        "t2"."_t2" <= (
          "t2"."_t1" + INTERVAL '1800' SECOND
        )
      )
    )
    THEN "t2"."_e2"
    WHEN TRUE
    AND (
      (
        "t2"."_e1" IS NOT NULL
      )
      AND (
        "t2"."_t1" <= (
          "t2"."ts" + INTERVAL '1800' SECOND
        )
      )
    )
    THEN '(end)'
    ELSE CAST(NULL AS TEXT)
  END AS "hop_2",
  CASE
    WHEN TRUE
    AND (
      (
        "t2"."_e1" IS NOT NULL
      )
      AND (
        "t2"."_t1" <= (
          "t2"."ts" + INTERVAL '1800' SECOND
        )
      )
    )
    AND (
      (
        "t2"."_e2" IS NOT NULL
      )
      AND (
        "t2"."_t2" <= (
          "t2"."_t1" + INTERVAL '1800' SECOND
        )
      )
    )
    AND (
      (
        "t2"."_e3" IS NOT NULL
      )
      AND (
        "t2"."_t3" <= (
          "t2"."_t2" + INTERVAL '1800' SECOND
        )
      )
    )
    THEN "t2"."_e3"
    WHEN TRUE
    AND (
      (
        "t2"."_e1" IS NOT NULL
      )
      AND (
        "t2"."_t1" <= (
          "t2"."ts" + INTERVAL '1800' SECOND
        )
      )
    )
    AND (
      (
        "t2"."_e2" IS NOT NULL
      )
      AND (
        "t2"."_t2" <= (
          "t2"."_t1" + INTERVAL '1800' SECOND
        )
      )
    )
    THEN '(end)'
    ELSE CAST(NULL AS TEXT)
  END AS "hop_3"
FROM (
  SELECT
    "t1"."person_id",
    "t1"."event",
    "t1"."ts",
    "t1"."seq",
    "t1"."source_id",
    "t1"."message_id",
    LEAD("t1"."event", 1) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_e1",
    LEAD("t1"."event", 2) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_e2",
    LEAD("t1"."event", 3) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_e3",
    LEAD("t1"."ts", 1) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_t1",
    LEAD("t1"."ts", 2) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_t2",
    LEAD("t1"."ts", 3) OVER (
      PARTITION BY "t1"."person_id"
      ORDER BY "t1"."ts" ASC, "t1"."seq" ASC, "t1"."source_id" ASC, "t1"."message_id" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_t3"
  FROM (
    SELECT
      "t0"."anonymous_id" AS "person_id",
      "t0"."event",
      "t0"."ts",
      CAST("t0"."message_id" AS TEXT) AS "seq",
      "t0"."source_id",
      "t0"."message_id"
    FROM "events" AS "t0"
    WHERE
      "t0"."type" = 'track'
      AND "t0"."event" IS NOT NULL
      AND "t0"."anonymous_id" IS NOT NULL
  ) AS "t1"
) AS "t2"
WHERE
  "t2"."event" = 'Product Viewed'
