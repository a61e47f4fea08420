-- Which CDC messages could the pipeline not use in the last 24 hours, by topic and error?
SELECT
    topic,
    error,
    count() AS messages,
    min(received_at) AS first_seen,
    max(received_at) AS last_seen,
    arraySort(groupUniqArray(10)(concat(toString(partition), ':', toString(offset)))) AS sample_partition_offsets
FROM debezium.kafka_errors
WHERE received_at >= now64(3) - INTERVAL 24 HOUR
GROUP BY topic, error
ORDER BY messages DESC, topic, error
