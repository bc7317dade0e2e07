/* lib.c - the generation's tiny shared libraries and plugins.
 * Built with -DTK_NAME='"<file name>"' -DTK_SYM=<exported function> -DTK_GEN=<generation>;
 * the id string makes each library, and each generation's build of it, differ in content. */
#ifndef TK_GEN
#define TK_GEN 1
#endif
#define TK_STR2(x) #x
#define TK_STR(x) TK_STR2(x)

const char tk_lib_id[] = "restartd testkit " TK_NAME " generation " TK_STR(TK_GEN);

int TK_SYM(void) { return TK_GEN + tk_lib_id[0]; }
