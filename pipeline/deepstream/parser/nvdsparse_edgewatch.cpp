// nvinfer custom bbox parser for edgewatch's YOLO export: one output layer of [N, 6] rows per frame,
// x1, y1, x2, y2, score, class in network-input pixels. nvinfer then clusters (NMS) and maps the boxes
// back to the frame (including the symmetric letterbox padding). Built in the container against
// DeepStream's own headers:  make -C pipeline/deepstream/parser
#include <algorithm>
#include <cstdio>
#include <vector>

#include "edgewatch_rows.h"
#include "nvdsinfer_custom_impl.h"

extern "C" bool NvDsInferParseEdgewatch(std::vector<NvDsInferLayerInfo> const& outputLayersInfo,
                                        NvDsInferNetworkInfo const& networkInfo,
                                        NvDsInferParseDetectionParams const& detectionParams,
                                        std::vector<NvDsInferParseObjectInfo>& objectList) {
    if (outputLayersInfo.empty()) {
        std::fprintf(stderr, "edgewatch parser: no output layer\n");
        return false;
    }
    const NvDsInferLayerInfo& layer = outputLayersInfo[0];
    const NvDsInferDims& dims = layer.inferDims;
    if (layer.dataType != FLOAT || dims.numDims < 2 || dims.d[dims.numDims - 1] < 6) {
        std::fprintf(stderr, "edgewatch parser: layer '%s' is not float [N, 6] rows (export with edgewatch export yolo)\n",
                     layer.layerName ? layer.layerName : "?");
        return false;
    }
    const int stride = static_cast<int>(dims.d[dims.numDims - 1]);
    const int n = static_cast<int>(dims.numElements / dims.d[dims.numDims - 1]);
    const unsigned int num_classes = std::min<unsigned int>(
        detectionParams.numClassesConfigured,
        static_cast<unsigned int>(detectionParams.perClassPreclusterThreshold.size()));
    std::vector<EdgewatchObject> parsed(static_cast<size_t>(n));
    const int count = edgewatch_parse_rows(static_cast<const float*>(layer.buffer), n, stride,
                                           detectionParams.perClassPreclusterThreshold.data(), num_classes,
                                           static_cast<float>(networkInfo.width),
                                           static_cast<float>(networkInfo.height), parsed.data(), n);
    objectList.clear();
    objectList.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
        NvDsInferParseObjectInfo object{};
        object.classId = parsed[i].class_id;
        object.left = parsed[i].left;
        object.top = parsed[i].top;
        object.width = parsed[i].width;
        object.height = parsed[i].height;
        object.detectionConfidence = parsed[i].confidence;
        objectList.push_back(object);
    }
    return true;
}

CHECK_CUSTOM_PARSE_FUNC_PROTOTYPE(NvDsInferParseEdgewatch);
