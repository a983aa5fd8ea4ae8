// edgewatch's YOLO output rows -> objects: the part of the nvinfer bbox parser that needs no DeepStream
// header, with a C ABI so the tests load it with ctypes and compare it with the Python decoder.
#ifndef EDGEWATCH_ROWS_H
#define EDGEWATCH_ROWS_H

#ifdef __cplusplus
extern "C" {
#endif

// One parsed object in network-input pixels (what nvinfer's NvDsInferObjectDetectionInfo holds).
typedef struct {
    unsigned int class_id;
    float left, top, width, height;
    float confidence;
} EdgewatchObject;

// Reads `n` rows of `stride` floats (x1, y1, x2, y2, score, class, ...) and writes at most `capacity`
// objects whose class is below `num_classes` and whose score is above that class's threshold, boxes
// clipped to the `net_w` x `net_h` input, empty boxes dropped. Returns the number written.
int edgewatch_parse_rows(const float* rows, int n, int stride, const float* thresholds, unsigned int num_classes,
                         float net_w, float net_h, EdgewatchObject* out, int capacity);

#ifdef __cplusplus
}
#endif

#endif
