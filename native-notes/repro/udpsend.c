// Bounded UDP sender: udpsend DST PORT COUNT PPS(0=max) PAYLOAD MAXSEC [SRC]
// Sends at most COUNT packets and stops after MAXSEC seconds whichever first.
// Payload carries a u32 sequence number. Prints sent count and elapsed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  if(argc<7){fprintf(stderr,"usage: udpsend DST PORT COUNT PPS PAYLOAD MAXSEC [SRC]\n");return 2;}
  const char*dst=argv[1];int port=atoi(argv[2]);long count=atol(argv[3]);double pps=atof(argv[4]);
  int plen=atoi(argv[5]);double maxsec=atof(argv[6]);
  if(count>50000000||maxsec>120||plen>1400||plen<4){fprintf(stderr,"limits: count<=5e7 maxsec<=120 4<=payload<=1400\n");return 2;}
  int s=socket(AF_INET,SOCK_DGRAM,0);
  int sb=8<<20;setsockopt(s,SOL_SOCKET,SO_SNDBUF,&sb,sizeof sb);
  if(argc>7){struct sockaddr_in a={0};a.sin_family=AF_INET;inet_pton(AF_INET,argv[7],&a.sin_addr);if(bind(s,(void*)&a,sizeof a)<0){perror("bind");return 1;}}
  struct sockaddr_in d={0};d.sin_family=AF_INET;d.sin_port=htons(port);inet_pton(AF_INET,dst,&d.sin_addr);
  
  char buf[1500];memset(buf,'x',sizeof buf);
  double t0=now(),deadline=t0+maxsec;long sent=0,errs=0;
  while(sent<count){
    if(pps>0){double due=t0+sent/pps;double t;while((t=now())<due){ if(t>deadline)break; }}
    if((sent&1023)==0&&now()>deadline)break;
    unsigned seq=htonl((unsigned)sent);memcpy(buf,&seq,4);
    if(sendto(s,buf,plen,0,(void*)&d,sizeof d)<0){errs++; if(errs>1000000)break; continue;}
    sent++;
  }
  double el=now()-t0;
  printf("sent=%ld errs=%ld elapsed=%.3f rate=%.0f\n",sent,errs,el,sent/el);
  return 0;
}
