/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One YAML document into a Config: libyaml's parse, its syntax errors with
 * the right positions, the shape limits, then the sections. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include "config-yaml.h"

/* 1-based line and column of byte off (libyaml gives only an offset for
 * input it cannot decode, such as invalid UTF-8). */
static Loc loc_of_offset(const char *file, const char *data, size_t len, size_t off) {
        Loc l = { file, 1, 1 };

        if (off > len)
                off = len;
        for (size_t i = 0; i < off; i++)
                if (data[i] == '\n') {
                        l.line++;
                        l.column = 1;
                } else if (((unsigned char) data[i] & 0xc0) != 0x80)
                        l.column++;
        return l;
}

static Loc problem_loc(const yaml_parser_t *parser, const char *file, const char *data, size_t len) {
        if (parser->error == YAML_READER_ERROR)
                return loc_of_offset(file, data, len, parser->problem_offset);
        return (Loc) { file, (unsigned) parser->problem_mark.line + 1, (unsigned) parser->problem_mark.column + 1 };
}

static int syntax_error(const yaml_parser_t *parser, const char *file, const char *data, size_t len, char **error) {
        const char *problem = parser->problem ? parser->problem : "unknown";

        if (parser->error == YAML_READER_ERROR)
                return fail_loc(error, problem_loc(parser, file, data, len),
                                "not valid UTF-8 or UTF-16 text: %s (byte 0x%02x)", problem,
                                (unsigned) (parser->problem_value & 0xff));
        return fail_loc(error, problem_loc(parser, file, data, len), "YAML syntax error: %s%s%s", problem,
                        parser->context ? " " : "", parser->context ? parser->context : "");
}

/* Nesting depth and node count from the event stream, before libyaml
 * builds the document: no input gets to cost more than its size. A syntax
 * error is left to the loader, which reports it. */
static int check_shape(const char *file, const char *data, size_t len, char **ret_error) {
        yaml_parser_t parser;
        yaml_event_t ev;
        unsigned depth = 0;
        size_t nodes = 0;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                abort();
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        for (;;) {
                if (!yaml_parser_parse(&parser, &ev))
                        break;
                yaml_event_type_t t = ev.type;
                Loc l = { file, (unsigned) ev.start_mark.line + 1, (unsigned) ev.start_mark.column + 1 };

                if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
                        if (++depth > CONFIG_DEPTH_MAX)
                                r = fail_loc(ret_error, l, "nested more than %u levels deep", CONFIG_DEPTH_MAX);
                } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
                        depth--;
                if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT || t == YAML_SCALAR_EVENT ||
                     t == YAML_ALIAS_EVENT) &&
                    ++nodes > CONFIG_NODES_MAX && r == 0)
                        r = fail_loc(ret_error, l, "more than %u values in one file", CONFIG_NODES_MAX);
                yaml_event_delete(&ev);
                if (r < 0 || t == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&parser);
        return r;
}

int config_parse_data(Config *c, const char *file, const char *data, size_t len, const Host *host,
                      char **ret_error) {
        yaml_parser_t parser;
        yaml_document_t doc, extra;
        Parser p = { .file = file, .cfg = c, .host = host };
        int r = 0;

        if (len > CONFIG_FILE_MAX)
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "larger than %u bytes", CONFIG_FILE_MAX);
        r = check_shape(file, data, len, ret_error);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                abort();
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = syntax_error(&parser, file, data, len, ret_error);
                yaml_parser_delete(&parser);
                return r;
        }
        p.doc = &doc;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root)
                r = cfg_parse_root(&p, root);
        if (r >= 0) {
                /* One document per file: a second one would be silently ignored otherwise. */
                if (!yaml_parser_load(&parser, &extra))
                        r = syntax_error(&parser, file, data, len, &p.error);
                else {
                        yaml_node_t *x = yaml_document_get_root_node(&extra);
                        if (x)
                                r = fail(&p, x, "only one YAML document per file is allowed");
                        yaml_document_delete(&extra);
                }
        }
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r < 0)
                *ret_error = TAKE_PTR(p.error);
        free(p.error);
        return r;
}
