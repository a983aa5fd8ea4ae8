/* Stand-in for NVIDIA's libnvinfer, libnvinfer_plugin, libnvonnxparser and libnvparsers: NOT TensorRT.
 *
 * It defines only the C entry points the TensorRT Python binding module links against, each returning
 * NULL or 0, so that the real binding module of a TensorRT version imports on a machine without
 * TensorRT. Its classes, enums and signatures are then the real ones of that version; every TensorRT
 * factory fails ("factory function returned nullptr"), which is what tests/trt_checked.py relies on.
 * tests/trt_bindings.py compiles it with cc at test time (cached) under each library's soname.
 */
void *createInferBuilder_INTERNAL(void *logger, int version) { return 0; }
void *createInferRuntime_INTERNAL(void *logger, int version) { return 0; }
void *createInferRefitter_INTERNAL(void *engine, void *logger, int version) { return 0; }
void *createNvOnnxParser_INTERNAL(void *network, void *logger, int version) { return 0; }
void *createNvOnnxParserRefitter_INTERNAL(void *refitter, void *logger, int version) { return 0; }
void *getBuilderPluginRegistry(int capability) { return 0; }
void *getPluginRegistry(void) { return 0; }
int getInferLibVersion(void) { return 0; }
int getNvOnnxParserVersion(void) { return 0; }
int initLibNvInferPlugins(void *logger, const char *ns) { return 0; }
/* TensorRT 8.x bindings also link the UFF and Caffe parsers (C++ names, mangled) */
void *_ZN11nvuffparser15createUffParserEv(void) { return 0; }
void _ZN11nvuffparser8FieldMapC1EPKcPKvNS_9FieldTypeEi(void) {}
void *_ZN14nvcaffeparser117createCaffeParserEv(void) { return 0; }
void _ZN14nvcaffeparser123shutdownProtobufLibraryEv(void) {}
