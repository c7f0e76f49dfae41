/* A static program for the image tests: proves a binary the image carries
 * (not the host's) runs in a node. Prints its greeting and working directory. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char cwd[256];
  const char* g = getenv("GREETING");
  printf("hello %s from %s\n", g ? g : "(none)", getcwd(cwd, sizeof cwd) ? cwd : "?");
  return 0;
}
