// See edgewatch_rows.h. No NMS here: nvinfer clusters the objects (cluster-mode=2) as configured.
#include "edgewatch_rows.h"

#include <algorithm>

int edgewatch_parse_rows(const float* rows, int n, int stride, const float* thresholds, unsigned int num_classes,
                         float net_w, float net_h, EdgewatchObject* out, int capacity) {
    int count = 0;
    for (int i = 0; i < n && count < capacity; ++i) {
        const float* row = rows + static_cast<long>(i) * stride;
        const float score = row[4];
        const float class_value = row[5];
        if (!(class_value >= 0.0f) || class_value >= static_cast<float>(num_classes)) {
            continue;  // also skips NaN
        }
        const unsigned int class_id = static_cast<unsigned int>(class_value);
        if (!(score > thresholds[class_id])) {
            continue;
        }
        const float x1 = std::clamp(row[0], 0.0f, net_w);
        const float y1 = std::clamp(row[1], 0.0f, net_h);
        const float x2 = std::clamp(row[2], 0.0f, net_w);
        const float y2 = std::clamp(row[3], 0.0f, net_h);
        if (x2 <= x1 || y2 <= y1) {
            continue;
        }
        out[count++] = EdgewatchObject{class_id, x1, y1, x2 - x1, y2 - y1, score};
    }
    return count;
}
