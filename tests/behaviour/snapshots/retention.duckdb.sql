WITH "t2" AS (
  SELECT
    "t1"."person_id",
    CAST(CASE
      WHEN (
        "t1"."ts" >= MAKE_TIMESTAMP(2000, 1, 1, 0, 0, 0.0)
      )
      AND (
        "t1"."ts" < MAKE_TIMESTAMP(2061, 1, 1, 0, 0, 0.0)
      )
      THEN "t1"."ts" + INTERVAL '28800' SECOND
      ELSE TIMEZONE('Asia/Shanghai', CAST("t1"."ts" AS TIMESTAMPTZ))
    END AS DATE) AS "day",
    0 AS "revenue_fen"
  FROM (
    SELECT
      "t0"."source_id",
      "t0"."message_id",
      "t0"."type",
      "t0"."event",
      "t0"."user_id",
      "t0"."anonymous_id",
      "t0"."ts",
      "t0"."properties",
      "t0"."context",
      CAST("t0"."message_id" AS TEXT) AS "seq",
      "t0"."anonymous_id" AS "person_id"
    FROM "events" AS "t0"
    WHERE
      "t0"."type" = 'track'
      AND "t0"."event" IS NOT NULL
      AND "t0"."anonymous_id" IS NOT NULL
  ) AS "t1"
)
SELECT
  "t12"."cohort",
  "t12"."period",
  COUNT(*) AS "retained"
FROM (
  SELECT
    "t11"."person_id",
    "t11"."cohort",
    "t11"."period"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t9"."person_id",
        "t9"."cohort",
        "t9"."day",
        "t9"."revenue_fen",
        "t9"."start",
        CAST(FLOOR((
          DATE_DIFF('DAY', "t9"."cohort", "t9"."start")
        ) / (
          7
        )) AS BIGINT) AS "period"
      FROM (
        SELECT
          "t8"."person_id",
          "t8"."cohort",
          "t6"."day",
          "t6"."revenue_fen",
          "t6"."start"
        FROM (
          SELECT
            "t4"."person_id",
            DATE_TRUNC('WEEK', "t4"."first_day") AS "cohort"
          FROM (
            SELECT
              "t3"."person_id",
              MIN("t3"."day") AS "first_day"
            FROM "t2" AS "t3"
            GROUP BY
              1
          ) AS "t4"
        ) AS "t8"
        INNER JOIN (
          SELECT
            "t3"."person_id",
            "t3"."day",
            "t3"."revenue_fen",
            DATE_TRUNC('WEEK', "t3"."day") AS "start"
          FROM "t2" AS "t3"
        ) AS "t6"
          ON "t8"."person_id" = "t6"."person_id"
      ) AS "t9"
    ) AS "t10"
    WHERE
      "t10"."period" >= 0 AND "t10"."period" <= 4
  ) AS "t11"
  GROUP BY
    1,
    2,
    3
) AS "t12"
GROUP BY
  1,
  2
