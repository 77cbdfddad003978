set pagination off
target remote 127.0.0.1:@PORT@
printf "START eip=%x\n", $eip
stepi
printf "STEP1 eip=%x\n", $eip
stepi
printf "STEP2 eip=%x\n", $eip
stepi
printf "STEP3 eip=%x esp=%x\n", $eip, $esp
printf "MEM %02x %02x\n", *(unsigned char *)$eip, *(unsigned char *)_start
continue
